"""Many practices in one deployment, from Python: two practices, each with its own
Stripe account, metadata policy and idempotency secret, share one PostgreSQL store;
the practice router hands each webhook delivery to the practice of its account.

The server is the one named by BILLBRIDGE_TEST_POSTGRES_URL (``make test-postgres``
sets it), or else a throwaway cluster started here with the repository's script,
which stops by itself when this process exits. No test is skipped for want of one.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

import billbridge
from conftest import REPOSITORY

HARBOUR = "acct_1HarbourClinic"
MEADOW = "acct_1MeadowPhysio"


@pytest.fixture(scope="module")
def database_url() -> str:
    url = os.environ.get("BILLBRIDGE_TEST_POSTGRES_URL")
    if url:
        return url
    started = subprocess.run(
        ["bash", str(REPOSITORY / "tests" / "postgres" / "cluster.sh"), "start", "--owner-pid", str(os.getpid())],
        check=True,
        capture_output=True,
        text=True,
    )
    return next(line[4:] for line in started.stdout.splitlines() if line.startswith("url="))


@pytest.fixture
def store(database_url: str) -> billbridge.PostgresStore:
    return billbridge.PostgresStore(database_url, schema=f"py_{uuid.uuid4().hex[:12]}", max_connections=4)


def practice(
    mock: billbridge.MockStripe, store: billbridge.PostgresStore, account: str, policy: billbridge.MetadataPolicy
) -> billbridge.Billbridge:
    return billbridge.Billbridge(
        stripe=mock,
        idempotency_secret=f"{account}-idempotency-secret",
        metadata_policy=policy,
        store=store,
        account=account,
        webhook_secret=mock.webhook_secret,
    )


def test_the_store_url_never_shows_its_password(database_url: str, store: billbridge.PostgresStore) -> None:
    password = database_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert password not in repr(store) and "***" in repr(store)
    with pytest.raises(billbridge.StoreError) as refused:
        billbridge.PostgresStore(database_url.replace(password, "wrong-password-0000"), schema=store.schema)
    assert refused.value.code == "store_backend"
    assert "wrong-password" not in str(refused.value) and password not in str(refused.value)


def test_two_practices_patients_with_the_same_host_id_never_meet(store: billbridge.PostgresStore) -> None:
    mock = billbridge.MockStripe(seed=3)
    harbour = practice(mock, store, HARBOUR, billbridge.MetadataPolicy.hero_compatible())
    meadow = practice(mock, store, MEADOW, billbridge.MetadataPolicy.minimal())
    practices = billbridge.Practices([harbour, meadow])
    assert practices.accounts == [HARBOUR, MEADOW]
    assert len(practices) == 2
    with pytest.raises(billbridge.ValidationError) as duplicate:
        billbridge.Practices([harbour, harbour])
    assert duplicate.value.code == "duplicate_practice"

    ada = billbridge.Patient("P-1", "Ada", "Harbour", postcode="LS1 4AP")
    bo = billbridge.Patient("P-1", "Bo", "Meadow", postcode="LS2 7EW")
    ada_customer = practices.get(HARBOUR).upsert_customer(ada)
    bo_customer = practices.get(MEADOW).upsert_customer(bo)
    assert ada_customer.stripe_customer_id != bo_customer.stripe_customer_id

    def draft(patient: billbridge.Patient, pence: int) -> billbridge.InvoiceDraft:
        line = billbridge.InvoiceLine("Assessment", billbridge.Money(pence, "gbp"))
        return billbridge.InvoiceDraft(patient, lines=[line], host_id="INV-1")

    ada_invoice = harbour.raise_invoice(draft(ada, 9000), mode="finalize_and_send", patient=ada)
    bo_invoice = meadow.raise_invoice(draft(bo, 4500), mode="finalize_and_send", patient=bo)
    assert ada_invoice.stripe_invoice_id != bo_invoice.stripe_invoice_id

    # Every delivery reaches the practice of its account once; a repeat is a duplicate.
    deliveries = mock.take_webhooks()
    accounts = [json.loads(delivery.body)["account"] for delivery in deliveries]
    assert set(accounts) == {HARBOUR, MEADOW}
    for delivery in deliveries:
        first = practices.handle_webhook(delivery.body, delivery.signature_header)
        again = practices.handle_webhook(delivery.body, delivery.signature_header)
        assert first.disposition in ("applied", "ignored")
        assert again.disposition in ("duplicate", "ignored")

    # A second deployment process over the same database sees each practice's own rows.
    harbour_again = practice(mock, store, HARBOUR, billbridge.MetadataPolicy.hero_compatible())
    meadow_again = practice(mock, store, MEADOW, billbridge.MetadataPolicy.minimal())
    ada_record = harbour_again.invoice("INV-1")
    bo_record = meadow_again.invoice("INV-1")
    assert ada_record is not None and bo_record is not None
    assert ada_record.stripe_invoice_id == ada_invoice.stripe_invoice_id
    assert bo_record.stripe_invoice_id == bo_invoice.stripe_invoice_id
    assert ada_record.total == billbridge.Money(9000, "gbp")
    assert bo_record.total == billbridge.Money(4500, "gbp")
    assert ada_record.status == bo_record.status == "open"

    # An event of an account no practice here serves is named in a typed error.
    body = deliveries[0].body.replace(accounts[0].encode(), b"acct_1Elsewhere")
    with pytest.raises(billbridge.ValidationError) as unknown:
        practices.handle_webhook(body, deliveries[0].signature_header)
    assert unknown.value.code == "unknown_practice"
