"""The bridge for asyncio: the same methods as ``billbridge.Billbridge``, each
returning an awaitable. Both flavours run on the one runtime the native module owns.
"""

from billbridge._native import AsyncBillbridge as Billbridge

__all__ = ["Billbridge"]
