"""the first schema: bins, telemetry, events, states, acks, collections, alerts, rejected

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('acks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('bin_id', sa.String(length=64), nullable=False),
    sa.Column('cmd_id', sa.String(length=40), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('res', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=40), nullable=False),
    sa.Column('received', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bin_id', 'digest', name='uq_acks_bin_digest')
    )
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('bin_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('ts', sa.Float(), nullable=False),
    sa.Column('last_ts', sa.Float(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('ended_ts', sa.Float(), nullable=True),
    sa.Column('acked_by', sa.String(length=64), nullable=True),
    sa.Column('acked_at', sa.Float(), nullable=True),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolved_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_bin_kind', ['bin_id', 'kind', 'status'], unique=False)
        batch_op.create_index('ix_alerts_status', ['status', 'ts'], unique=False)

    op.create_table('bins',
    sa.Column('bin_id', sa.String(length=64), nullable=False),
    sa.Column('first_ts', sa.Float(), nullable=True),
    sa.Column('last_ts', sa.Float(), nullable=True),
    sa.Column('tel_ts', sa.Float(), nullable=True),
    sa.Column('last_seq', sa.Integer(), nullable=True),
    sa.Column('fill', sa.Float(), nullable=True),
    sa.Column('est', sa.Float(), nullable=True),
    sa.Column('vbat', sa.Integer(), nullable=True),
    sa.Column('soc', sa.Float(), nullable=True),
    sa.Column('rssi', sa.Integer(), nullable=True),
    sa.Column('temp', sa.Float(), nullable=True),
    sa.Column('elvl', sa.String(length=16), nullable=True),
    sa.Column('flags', sa.Integer(), nullable=True),
    sa.Column('fw', sa.String(length=32), nullable=True),
    sa.Column('fcst', sa.Float(), nullable=True),
    sa.Column('ovf', sa.Float(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=True),
    sa.Column('state_ts', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('bin_id')
    )
    op.create_table('collections',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('bin_id', sa.String(length=64), nullable=False),
    sa.Column('ts', sa.Float(), nullable=False),
    sa.Column('before', sa.Float(), nullable=True),
    sa.Column('after', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bin_id', 'ts', name='uq_collections_bin_ts')
    )
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.create_index('ix_collections_ts', ['ts'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('bin_id', sa.String(length=64), nullable=False),
    sa.Column('ts', sa.Float(), nullable=False),
    sa.Column('ev', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=40), nullable=False),
    sa.Column('received', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bin_id', 'digest', name='uq_events_bin_digest')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_bin_ts', ['bin_id', 'ts'], unique=False)
        batch_op.create_index('ix_events_ev_ts', ['ev', 'ts'], unique=False)

    op.create_table('rejected',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('received', sa.Float(), nullable=False),
    sa.Column('topic', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('states',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('bin_id', sa.String(length=64), nullable=False),
    sa.Column('ts', sa.Float(), nullable=True),
    sa.Column('st', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('received', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('states', schema=None) as batch_op:
        batch_op.create_index('ix_states_bin_id', ['bin_id', 'id'], unique=False)

    op.create_table('telemetry',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('bin_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('ts', sa.Float(), nullable=False),
    sa.Column('fill', sa.Float(), nullable=True),
    sa.Column('est', sa.Float(), nullable=True),
    sa.Column('dist', sa.Integer(), nullable=True),
    sa.Column('q', sa.Integer(), nullable=True),
    sa.Column('temp', sa.Float(), nullable=True),
    sa.Column('vbat', sa.Integer(), nullable=True),
    sa.Column('vsol', sa.Integer(), nullable=True),
    sa.Column('cmp', sa.Integer(), nullable=True),
    sa.Column('fcst', sa.Float(), nullable=True),
    sa.Column('ovf', sa.Float(), nullable=True),
    sa.Column('flags', sa.Integer(), nullable=True),
    sa.Column('dropped', sa.Integer(), nullable=True),
    sa.Column('soc', sa.Float(), nullable=True),
    sa.Column('elvl', sa.String(length=16), nullable=True),
    sa.Column('fw', sa.String(length=32), nullable=True),
    sa.Column('rssi', sa.Integer(), nullable=True),
    sa.Column('received', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bin_id', 'seq', 'ts', name='uq_telemetry_bin_seq_ts')
    )
    with op.batch_alter_table('telemetry', schema=None) as batch_op:
        batch_op.create_index('ix_telemetry_bin_ts', ['bin_id', 'ts'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('telemetry', schema=None) as batch_op:
        batch_op.drop_index('ix_telemetry_bin_ts')

    op.drop_table('telemetry')
    with op.batch_alter_table('states', schema=None) as batch_op:
        batch_op.drop_index('ix_states_bin_id')

    op.drop_table('states')
    op.drop_table('rejected')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_ev_ts')
        batch_op.drop_index('ix_events_bin_ts')

    op.drop_table('events')
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.drop_index('ix_collections_ts')

    op.drop_table('collections')
    op.drop_table('bins')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_status')
        batch_op.drop_index('ix_alerts_bin_kind')

    op.drop_table('alerts')
    op.drop_table('acks')
