"""Shared fixtures: repository paths and a bridge over a fresh mock Stripe."""

from __future__ import annotations

import pathlib

import pytest

import billbridge

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
DATA = REPOSITORY / "tests" / "data"
IDEMPOTENCY_SECRET = "harbour-health-idempotency-secret"


@pytest.fixture
def mock() -> billbridge.MockStripe:
    return billbridge.MockStripe(seed=7)


@pytest.fixture
def bridge(mock: billbridge.MockStripe) -> billbridge.Billbridge:
    return billbridge.Billbridge(
        stripe=mock,
        idempotency_secret=IDEMPOTENCY_SECRET,
        metadata_policy=billbridge.MetadataPolicy.hero_compatible().without("patient_gender"),
    )


@pytest.fixture
def john() -> billbridge.Patient:
    return billbridge.Patient(
        "P-1001",
        "John",
        "Deer",
        email="john.deer@example.com",
        mobile="+447700900101",
        postcode="BS1 4DJ",
    )
