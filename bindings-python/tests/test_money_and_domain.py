"""Money, parties, drafts, metadata policies and the balance rule, as Python sees them."""

from __future__ import annotations

import datetime

import pytest

import billbridge


def test_money_parses_decimal_text_exactly() -> None:
    fee = billbridge.Money.parse("12.50", "gbp")
    assert (fee.amount, fee.currency.code) == (1250, "gbp")
    assert str(fee) == "12.50 gbp"
    assert repr(fee) == "Money(1250, 'gbp')"
    assert billbridge.Money.parse("500", "jpy").amount == 500


def test_money_arithmetic_and_ordering() -> None:
    follow_up = billbridge.Money(5000, "gbp")
    kit = billbridge.Money(3500, billbridge.Currency("gbp"))
    assert follow_up + kit == billbridge.Money(8500, "gbp")
    assert follow_up - kit == billbridge.Money(1500, "gbp")
    assert kit * 3 == billbridge.Money(10500, "gbp")
    assert 2 * kit == billbridge.Money(7000, "gbp")
    assert -kit == billbridge.Money(-3500, "gbp")
    assert kit < follow_up and follow_up >= kit
    assert len({follow_up, billbridge.Money(5000, "gbp")}) == 1


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: billbridge.Money.parse("12.345", "gbp"), "too_many_decimals"),
        (lambda: billbridge.Money.parse("12,50", "gbp"), "invalid_amount"),
        (lambda: billbridge.Money(1, "xyz"), "unknown_currency"),
        (lambda: billbridge.Money(1, "gbp") + billbridge.Money(1, "usd"), "currency_mismatch"),
        (lambda: billbridge.Money(1, "gbp") < billbridge.Money(1, "usd"), "currency_mismatch"),
        (lambda: billbridge.Money(2**62, "gbp") * 4, "amount_overflow"),
        (lambda: billbridge.Money(5, "bhd").stripe_amount(), "three_decimal_not_rounded"),
    ],
)
def test_bad_money_raises_validation_error_with_the_core_code(call: object, code: str) -> None:
    with pytest.raises(billbridge.ValidationError) as raised:
        call()  # type: ignore[operator]
    assert raised.value.code == code
    assert raised.value.category == "validation"


def test_every_category_has_its_own_exception_class() -> None:
    classes = [
        billbridge.ValidationError,
        billbridge.InvalidStateError,
        billbridge.StripeApiError,
        billbridge.TransportError,
        billbridge.SignatureError,
        billbridge.StoreError,
        billbridge.InternalError,
    ]
    assert len(set(classes)) == 7
    for cls in classes:
        assert issubclass(cls, billbridge.BillbridgeError)
        assert issubclass(cls, Exception)


def test_patient_keyword_arguments_and_dates_round_trip() -> None:
    patient = billbridge.Patient(
        "P-1",
        "Ada",
        "Lovelace",
        date_of_birth=datetime.date(1990, 1, 2),
        email="ada@example.com",
        default_payer="ORG-1",
        registered_practitioner=billbridge.Practitioner("PR-1", "Dr Amara Okafor"),
    )
    assert patient.date_of_birth == datetime.date(1990, 1, 2)
    assert patient.full_name == "Ada Lovelace"
    assert patient.payer == billbridge.PayerRef.organisation("ORG-1")
    assert patient.to_dict()["date_of_birth"] == "1990-01-02"
    assert billbridge.Patient.from_dict(patient.to_dict()).to_dict() == patient.to_dict()


def test_patient_repr_leaves_personal_data_out() -> None:
    patient = billbridge.Patient("P-1", "Ada", "Lovelace", email="ada@example.com")
    assert "Ada" not in repr(patient) and "ada@" not in repr(patient)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"email": "not-an-email"}, "invalid_email"),
        ({"mobile": "call me"}, "invalid_phone"),
    ],
)
def test_invalid_contact_details_are_refused(kwargs: dict[str, str], code: str) -> None:
    with pytest.raises(billbridge.ValidationError) as raised:
        billbridge.Patient("P-1", "Ada", "Lovelace", **kwargs)
    assert raised.value.code == code


def test_a_datetime_is_not_taken_for_a_date() -> None:
    with pytest.raises(TypeError):
        billbridge.Patient("P-1", "Ada", "Lovelace", date_of_birth=datetime.datetime(1990, 1, 2))  # type: ignore[arg-type]


def test_draft_total_and_editing_bumps_revision() -> None:
    follow_up = billbridge.CatalogueItem("follow-up", "Follow-up session", billbridge.Money(5000, "gbp"))
    patient = billbridge.Patient("P-1", "Ada", "Lovelace")
    draft = billbridge.InvoiceDraft(
        patient,
        host_id="INV-1",
        lines=[
            billbridge.InvoiceLine.from_catalogue(follow_up, service_date=datetime.date(2026, 11, 20)),
            billbridge.InvoiceLine("Home blood test kit", billbridge.Money(3500, "gbp")),
        ],
        due_in_days=14,
    )
    assert draft.total() == billbridge.Money(8500, "gbp")
    assert draft.collection_method == "send_invoice"
    assert draft.lines[0].catalogue_key == "follow-up"
    assert draft.lines[0].service_dates == (datetime.date(2026, 11, 20),) * 2
    draft.add_line(billbridge.InvoiceLine("Postage", billbridge.Money(450, "gbp")))
    assert draft.revision == 1
    assert draft.total() == billbridge.Money(8950, "gbp")
    assert billbridge.InvoiceDraft.from_dict(draft.to_dict()).total() == draft.total()


def test_draft_with_mixed_currencies_is_a_validation_error() -> None:
    draft = billbridge.InvoiceDraft(
        billbridge.PayerRef.patient("P-1"),
        lines=[
            billbridge.InvoiceLine("A", billbridge.Money(100, "gbp")),
            billbridge.InvoiceLine("B", billbridge.Money(100, "usd")),
        ],
    )
    with pytest.raises(billbridge.ValidationError) as raised:
        draft.validate()
    assert raised.value.code == "currency_mismatch"


def test_metadata_policy_without_a_field_stops_rendering_it() -> None:
    values = {"patient_name": "Ada Lovelace", "patient_gender": "female", "host_patient_id": "P-1"}
    full = billbridge.MetadataPolicy.hero_compatible()
    trimmed = full.without("patient_gender")
    assert "patient_gender" in full.enabled_fields
    assert "patient_gender" in trimmed.disabled_fields
    assert "female" in full.render("customer", values).values()
    assert "female" not in trimmed.render("customer", values).values()
    with pytest.raises(billbridge.ValidationError) as raised:
        full.without("shoe_size")
    assert raised.value.code == "metadata_unknown_field"


def test_metadata_policy_repr_never_shows_the_practice_secret() -> None:
    policy = billbridge.MetadataPolicy.hero_compatible().with_pseudonym_secret(b"practice-secret-0123456789")
    assert "practice-secret" not in repr(policy)
    assert "pseudonym_secret=set" in repr(policy)


def test_apply_balance_follows_stripes_finalization_rule() -> None:
    finalized = billbridge.apply_balance(billbridge.Money(8500, "gbp"), billbridge.Money(-5000, "gbp"))
    assert finalized.amount_due == billbridge.Money(3500, "gbp")
    assert finalized.ending_balance == billbridge.Money(0, "gbp")
    assert finalized.outcome == "open"
    covered = billbridge.apply_balance(billbridge.Money(3000, "gbp"), billbridge.Money(-5000, "gbp"))
    assert covered.paid_at_finalization
    assert covered.ending_balance == billbridge.Money(-2000, "gbp")


def test_insurance_remainder_is_invoiced_to_the_client() -> None:
    self_pay = billbridge.BillingRate("RATE-GEN-SELF", "General Service (Self-Pay)", invoiced=True, payer="client")
    general = billbridge.BillingRate("RATE-GEN", "General Service", invoiced=False, payer="insurance")
    session = billbridge.Service(
        "S-1",
        patient_id="P-1007",
        date=datetime.date(2026, 11, 20),
        rate_id="RATE-GEN-SELF",
        amount=billbridge.Money(12000, "gbp"),
        insurer_payment=billbridge.Money(8000, "gbp"),
    )
    assert session.client_part() == billbridge.Money(4000, "gbp")
    groups = billbridge.select_invoiceable([session], [self_pay, general])
    assert len(groups) == 1
    payer, services, lines = groups[0]
    assert payer == billbridge.PayerRef.patient("P-1007")
    assert services == ["S-1"]
    assert [line.amount for line in lines] == [billbridge.Money(4000, "gbp")]


def test_api_key_repr_never_shows_the_secret() -> None:
    key = billbridge.ApiKey("sk_test_51HarbourHealthSecretPart")
    assert (key.kind, key.mode, key.is_test_mode) == ("secret", "test", True)
    assert "HarbourHealth" not in repr(key) and "HarbourHealth" not in str(key)
    transport = billbridge.HttpTransport(key, base_url="http://127.0.0.1:9")
    assert "HarbourHealth" not in repr(transport)


def test_a_publishable_key_is_refused() -> None:
    with pytest.raises(billbridge.ValidationError) as raised:
        billbridge.ApiKey("pk_test_abc")
    assert raised.value.code == "publishable_key"


def test_a_rust_panic_surfaces_as_a_python_exception() -> None:
    with pytest.raises(BaseException) as raised:
        billbridge._native._panic_for_tests("deliberate")
    assert type(raised.value).__name__ == "PanicException"
    assert "deliberate" in str(raised.value)
