# After a delivery attempt: the signal of the last registration is kept for telemetry
# ("rssi", dBm), and a modem fault that needs someone (registration denied, SIM not ready,
# modem dead after its power cycles) becomes one `modem_fault` event, raised again only
# after the link has come up in between. Transient faults (no coverage yet, a lost bearer)
# are only counted: the next wake tries again. "nvm": the modem's NVM set-up (drivers/
# modem.py) done in a session that ended well; any fault or modem reboot has it done again.
_EVENT_FAULTS = ("denied", "sim", "dead")
_ERR_MAX = 80


def rssi(st):
    net = st.get("net")
    return net.get("rssi") if isinstance(net, dict) else None


def prime(link, st):
    """Before link.up(): tell the modem driver what its NVM holds, as far as known."""
    net = st.get("net") if st else None
    m = getattr(link, "modem", None)
    if m is not None and isinstance(net, dict):
        m.nvm = net.get("nvm")


def note(link, st, queue, now):
    """queue: a list the modem_fault event is appended to, as (kind, payload)."""
    if not getattr(link, "tried", False):
        return
    net = st.get("net")
    if not isinstance(net, dict):
        net = {"rssi": None, "f": None, "fails": 0}
        st["net"] = net
    if link.rssi_dbm is not None:
        net["rssi"] = link.rssi_dbm
    fault = link.fault
    m = getattr(link, "modem", None)
    net["nvm"] = getattr(m, "nvm", None) if fault is None and not getattr(m, "reboots", 0) \
        else None
    if fault is None:
        net["f"], net["fails"] = None, 0
        return
    net["fails"] = net.get("fails", 0) + 1
    if fault in _EVENT_FAULTS and net.get("f") != fault:
        import report  # here: report imports this module for rssi()

        queue.append(("event", report.event(now, "modem_fault", {
            "why": fault, "err": (link.error or "")[:_ERR_MAX],
            "cycles": getattr(link.modem, "power_cycles", 0)})))
    net["f"] = fault
