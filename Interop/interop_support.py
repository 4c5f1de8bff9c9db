"""What every interop script shares: the pass/fail checks and loopback ports."""
import socket
import time

failures = []


def check(name, condition, detail=""):
    """Prints `ok` or `FAIL` for `name` (with `detail` on failure), records a failure; returns `condition`."""
    print(("ok   " if condition else "FAIL ") + name + (f": {detail}" if detail and not condition else ""))
    if not condition:
        failures.append(name)
    return condition


def free_port():
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=10):
    """Whether something accepts connections on 127.0.0.1:`port` within `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False
