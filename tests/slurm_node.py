"""A real one-node SLURM cluster (munged + slurmctld + slurmd) in a folder, for tests and trials.

Debian's ``slurm-wlm`` and ``munge`` (``apt-get install -y slurm-wlm munge``) started as root with
a minimal ``slurm.conf``: this machine is the only node, with its CPUs and memory; processes are
tracked through /proc (no cgroups), no accounting database (``sacct`` answers "accounting storage
is disabled", which submitit bypasses: it sees a job is done by its result file); the key, the
sockets, the state, the spool and the logs all live in the folder, and the ports are free ones, so
several clusters can run side by side and nothing outside the folder is touched.

    python -m tests.slurm_node up /tmp/slurm     # prints `export SLURM_CONF=/tmp/slurm/slurm.conf`
    python -m tests.slurm_node down /tmp/slurm
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "srun", "squeue", "sinfo", "scontrol", "munge")


def missing() -> str | None:
    """Why a cluster cannot be started here, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "a one-node SLURM runs its daemons as root (this is not root)"
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    lacking = [p for p in DAEMONS + CLIENTS if not shutil.which(p, path=path)]
    if lacking:
        return f"{', '.join(lacking)} not installed: apt-get install -y slurm-wlm munge"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 * 9 // 10
    return 1024


def _conf(root: Path, node: str) -> str:
    return f"""ClusterName=robostress
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root}/munge/munge.socket
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
ReturnToService=2
NodeName={node} NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} RealMemory={_memory_mb()} State=UNKNOWN
PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


def _run(*cmd: str, env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), env=env, capture_output=True, text=True, timeout=timeout)


def _logs(root: Path) -> str:
    tails = []
    for log in sorted((root / "log").glob("*.log")):
        tails.append(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:]))
    return "\n".join(tails)


def up(root: Path, timeout: float = 60) -> dict[str, str]:
    """Start the cluster in ``root``; returns the environment its clients need (``SLURM_CONF``).

    Raises:
        RuntimeError: a daemon did not start or the node did not come up (with the logs' tails).
    """
    root = Path(root).resolve()
    for sub in ("munge", "state", "spool", "log"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "munge", 0o755)
    key = root / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    os.chmod(key, 0o600)
    node = socket.gethostname().split(".")[0]
    (root / "slurm.conf").write_text(_conf(root, node))
    env = {**os.environ, "SLURM_CONF": str(root / "slurm.conf")}
    steps = [("munged", "-f", f"--socket={root}/munge/munge.socket", f"--key-file={key}",
              f"--log-file={root}/log/munged.log", f"--pid-file={root}/munge/munged.pid",
              f"--seed-file={root}/munge/munged.seed"),
             ("slurmctld", "-c", "-i"), ("slurmd", "-N", node)]
    for cmd in steps:
        r = _run(*cmd, env=env)
        if r.returncode != 0:
            down(root)
            raise RuntimeError(f"{cmd[0]} did not start (exit {r.returncode}): {r.stderr.strip()}\n{_logs(root)}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = _run("sinfo", "-h", "-n", node, "-o", "%t", env=env)
        if r.returncode == 0 and r.stdout.strip() in ("idle", "mix", "alloc"):
            return {"SLURM_CONF": env["SLURM_CONF"]}
        time.sleep(0.5)
    down(root)
    raise RuntimeError(f"node {node} did not come up in {timeout:.0f} s (sinfo: {r.stdout.strip() or r.stderr.strip()})\n"
                       f"{_logs(root)}")


def down(root: Path) -> None:
    """Stop the daemons of the cluster in ``root`` (by their pid files), and wait for them."""
    root = Path(root).resolve()
    env = {**os.environ, "SLURM_CONF": str(root / "slurm.conf")}
    if (root / "slurm.conf").exists():
        try:
            _run("scontrol", "shutdown", env=env, timeout=15)
        except subprocess.TimeoutExpired:
            pass
    for pid_file in (root / "slurmd.pid", root / "slurmctld.pid", root / "munge" / "munged.pid"):
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not _ours(pid, root):
                break
            os.kill(pid, sig)
            for _ in range(50):
                if not _ours(pid, root):
                    break
                time.sleep(0.1)


def _ours(pid: int, root: Path) -> bool:
    """Whether ``pid`` is alive and is a daemon of the cluster in ``root`` (a pid file can outlive its
    process, and the number be reused by another)."""
    try:
        proc = Path(f"/proc/{pid}")
        blob = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and str(root).encode() in blob

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("up", "down"):
        sys.exit("usage: python -m tests.slurm_node up|down FOLDER")
    if sys.argv[1] == "down":
        down(Path(sys.argv[2]))
        sys.exit(0)
    why = missing()
    if why:
        sys.exit(f"cannot start a one-node SLURM: {why}")
    try:
        print(f"export SLURM_CONF={up(Path(sys.argv[2]))['SLURM_CONF']}")
    except RuntimeError as e:
        sys.exit(str(e))
