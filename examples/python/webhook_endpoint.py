"""A FastAPI endpoint for Stripe webhooks: verify the RAW body, then act on typed fields.

Run with ``uvicorn examples.python.webhook_endpoint:app`` and set
``STRIPE_WEBHOOK_SECRET`` to the endpoint's ``whsec_…`` secret.
"""

from __future__ import annotations

import os
from typing import Optional

from fastapi import FastAPI, Header, HTTPException, Request

import billbridge


def create_app(webhook_secret: str) -> FastAPI:
    app = FastAPI()
    secret = billbridge.WebhookSecret(webhook_secret)
    app.state.paid_invoices = []

    @app.post("/stripe/webhooks")
    async def stripe_webhook(
        request: Request, stripe_signature: Optional[str] = Header(default=None)
    ) -> dict[str, str]:
        # The signature covers the exact bytes Stripe sent: never re-serialise parsed JSON.
        payload = await request.body()
        try:
            event = billbridge.construct_event(payload, stripe_signature, secret)
        except billbridge.SignatureError as error:
            raise HTTPException(status_code=400, detail=error.code) from error
        except billbridge.ValidationError as error:
            raise HTTPException(status_code=400, detail=error.code) from error
        if event.type == "invoice.paid" and event.object_id is not None:
            app.state.paid_invoices.append(event.object_id)
        return {"received": event.id}

    return app


app = create_app(os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_set_me"))
