"""Deploy --ca: the broker's CA is provisioned as ca.der (PEM converted), junk refused."""

from __future__ import annotations

import argparse

import pytest

from host_tools import tlsca
from host_tools.deploy.__main__ import provisioning
from host_tools.deploy.device import DeviceError


def _args(**kw):
    base = dict(device="bin-0042", user="bin-0042", password="pw", apn=None, broker=None,
                set=None, ca=None)
    base.update(kw)
    return argparse.Namespace(**base)


def test_ca_pem_is_written_as_der(tmp_path):
    ca = tlsca.make_ca(tmp_path / "ca")
    files = provisioning(_args(ca=str(ca.ca_pem)))
    assert files["ca.der"] == ca.ca_der.read_bytes()
    assert provisioning(_args(ca=str(ca.ca_der)))["ca.der"] == ca.ca_der.read_bytes()
    assert "ca.der" not in provisioning(_args())


def test_ca_junk_is_refused(tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("hello")
    with pytest.raises(DeviceError):
        provisioning(_args(ca=str(junk)))
