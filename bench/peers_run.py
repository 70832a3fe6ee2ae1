"""Runs a vmware_exporter checkout (argv[1]) with the rest of argv, for bench/peers.sh.

vmware_exporter always connects to port 443; the simulator listens on a free port, given
in PEERS_VSPHERE_PORT, so pyVim's SmartConnect gets that port by default.
"""
import functools
import os
import sys

sys.path.insert(0, sys.argv[1])
from pyVim import connect  # noqa: E402

connect.SmartConnect = functools.partial(connect.SmartConnect,
                                         port=int(os.environ["PEERS_VSPHERE_PORT"]))
from vmware_exporter import vmware_exporter  # noqa: E402

vmware_exporter.main(sys.argv[2:])
