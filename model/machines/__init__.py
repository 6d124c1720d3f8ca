"""The four protocol machines (python-statemachine classes: control states and events only)."""

from .ike_initiator import IkeInitiator
from .ike_responder import IkeResponder
from .tcp_client import TcpClient
from .tcp_server import TcpServer

__all__ = ["IkeInitiator", "IkeResponder", "TcpClient", "TcpServer"]
