"""billbridge: invoice through Stripe from an EHR, practice-management or CRM product.

Everything here is implemented by the Rust core; this package re-exports the
native module ``billbridge._native``. Blocking calls release the GIL; the
``billbridge.aio`` module offers the same calls as awaitables.
"""

from billbridge._native import (
    BillbridgeError,
    Currency,
    InternalError,
    InvalidStateError,
    Money,
    SignatureError,
    StoreError,
    StripeApiError,
    TransportError,
    ValidationError,
    __version__,
)

__all__ = [
    "BillbridgeError",
    "Currency",
    "InternalError",
    "InvalidStateError",
    "Money",
    "SignatureError",
    "StoreError",
    "StripeApiError",
    "TransportError",
    "ValidationError",
    "__version__",
]
