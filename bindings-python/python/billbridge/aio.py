"""The bridge and offline billing for asyncio: the same methods as
``billbridge.Billbridge`` and ``billbridge.OfflineBilling``, each returning an
awaitable. Both flavours run on the one runtime the native module owns.
"""

from billbridge._native import AsyncBillbridge as Billbridge
from billbridge._native import AsyncOfflineBilling as OfflineBilling

__all__ = ["Billbridge", "OfflineBilling"]
