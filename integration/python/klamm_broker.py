"""Start, restart and stop a Klamm broker process for the kafka-python integration tests.

Each Broker gets a free port on 127.0.0.1 and a fresh temporary log.dirs. Its stdout and
stderr go to a log file, whose tail is shown whenever something goes wrong. Every wait is
bounded, so a broker that hangs makes a test fail instead of hanging the run.

The binary is $KLAMM_BROKER, or build/klamm of this repository when that is not set.
"""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_BINARY = os.path.join(REPO_ROOT, "build", "klamm")

READY_TIMEOUT_S = 10  # until the port accepts connections
STOP_TIMEOUT_S = 10   # until the process has exited after SIGTERM
LOG_TAIL_LINES = 80

CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE, signal.SIGILL}
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

_running = []  # brokers still to be killed if the test process exits early
all_brokers = []  # every broker created, for showing logs


class BrokerError(Exception):
    """The broker could not be started or stopped as expected."""


def broker_binary():
    return os.environ.get("KLAMM_BROKER") or DEFAULT_BINARY


def free_port():
    """A port that was free a moment ago: bind port 0 and let the kernel choose."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts_connections(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


class Broker:
    """One broker process; restart() starts it again on the same port and log.dirs."""

    def __init__(self, binary=None):
        self.binary = binary or broker_binary()
        self.port = free_port()
        self.work_dir = tempfile.mkdtemp(prefix="klamm-it-")
        self.log_dirs = os.path.join(self.work_dir, "data")  # the broker's log.dirs
        self.log_path = os.path.join(self.work_dir, "broker.log")  # its stdout + stderr
        os.mkdir(self.log_dirs)
        self.process = None
        self._saved_log = ""  # the log's text, kept after close() removes work_dir
        all_brokers.append(self)

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    def command(self):
        return [
            self.binary,
            "--override", "listeners=PLAINTEXT://127.0.0.1:%d" % self.port,
            "--override", "log.dirs=%s" % self.log_dirs,
            "--override", "message.max.bytes=4194304",
            "--override", "socket.request.max.bytes=104857600",
        ]

    # ---- lifecycle ---------------------------------------------------------------------

    def start(self):
        if not os.access(self.binary, os.X_OK):
            raise BrokerError("broker binary %s does not exist or is not executable "
                              "(build it with `make build`)" % self.binary)
        with open(self.log_path, "ab") as log:
            log.write(("----- starting: %s\n" % " ".join(self.command())).encode())
            log.flush()
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=log)
        _running.append(self)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not port_accepts_connections(self.port):
            status = self.process.poll()
            if status is not None:
                raise BrokerError("broker exited with status %s before accepting connections"
                                  "\n%s" % (status, self.log_tail()))
            if time.monotonic() > deadline:
                self._kill()
                raise BrokerError("broker did not accept connections on port %d within %d s"
                                  "\n%s" % (self.port, READY_TIMEOUT_S, self.log_tail()))
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM):
        """Send sig and wait for the exit. Raises if the broker hangs, crashes or reports
        a sanitizer error (the last two only matter for a graceful stop)."""
        if self.process is None or self.process.poll() is not None:
            self._forget()
            return
        self.process.send_signal(sig)
        try:
            status = self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._kill()
            raise BrokerError("broker did not exit within %d s of %s\n%s"
                              % (STOP_TIMEOUT_S, signal.Signals(sig).name, self.log_tail()))
        self._forget()
        if sig == signal.SIGKILL:
            return
        if status < 0 and -status in CRASH_SIGNALS:
            raise BrokerError("broker crashed with %s while stopping\n%s"
                              % (signal.Signals(-status).name, self.log_tail()))
        if any(marker in self.log_text() for marker in SANITIZER_MARKERS):
            raise BrokerError("sanitizer report in the broker's log\n%s" % self.log_tail())

    def restart(self, sig=signal.SIGTERM):
        """Stop with sig (SIGTERM: graceful, SIGKILL: crash) and start on the same log.dirs."""
        self.stop(sig)
        with open(self.log_path, "ab") as log:
            log.write(("----- restart after %s\n" % signal.Signals(sig).name).encode())
        self.start()

    def close(self):
        """Stop gracefully (if running) and remove the temporary directory."""
        try:
            self.stop(signal.SIGTERM)
        finally:
            self._saved_log = self.log_text()
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def _kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
        self._forget()

    def _forget(self):
        if self in _running:
            _running.remove(self)

    # ---- the log -------------------------------------------------------------------------

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return self._saved_log

    def log_tail(self, lines=LOG_TAIL_LINES):
        tail = self.log_text().splitlines()[-lines:]
        return "----- broker log (%s, last %d lines) -----\n%s\n----- end of broker log -----" % (
            self.bootstrap, len(tail), "\n".join(tail))


def start_broker():
    """A new, started Broker; its directory is removed again if it does not start."""
    broker = Broker()
    try:
        broker.start()
    except BaseException:
        broker.close()
        raise
    return broker


@atexit.register
def _kill_leftover_brokers():
    for broker in list(_running):
        broker._kill()
