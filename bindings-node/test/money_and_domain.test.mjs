// Money, parties, drafts, rates and the metadata policy: the core's rules reached
// through the binding, with typed errors for every refusal.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import {
  AppointmentContext, BillingRate, CatalogueItem, Currency, InvoiceDraft, InvoiceLine,
  MetadataPolicy, Money, Organisation, Patient, PayerRef, Service, ValidationError,
  applyBalance, metadataFields, selectInvoiceable,
} from 'billbridge'
import { gbp, isError, patient } from './helpers.mjs'

test('money is integer minor units, parsed exactly and printed with its currency', () => {
  const fee = Money.parse('50.00', 'gbp')
  assert.equal(fee.amount, 5000)
  assert.equal(fee.currency.code, 'gbp')
  assert.equal(fee.add(gbp(3500)).toString(), '85.00 gbp')
  assert.equal(fee.sub(gbp(6000)).toDecimalString(), '-10.00')
  assert.equal(fee.mul(3).amount, 15000)
  assert.ok(fee.neg().isNegative())
  assert.ok(Money.zero('usd').isZero())
  assert.deepEqual(JSON.parse(JSON.stringify(fee)), { amount: 5000, currency: 'gbp' })
  assert.equal(new Money(1000, 'jpy').toDecimalString(), '1000')
  assert.equal(Money.fromStripeAmount(50000, 'isk').amount, 500)
  assert.equal(gbp(100).compare(gbp(200)), -1)
  assert.deepEqual([gbp(300), gbp(100), gbp(200)].sort((a, b) => a.compare(b)).map((m) => m.amount), [100, 200, 300])
  assert.ok(new Money(1, new Currency('EUR')).currency.equals(new Currency('eur')))
  assert.equal(new Currency('bhd').exponent, 3)
  assert.ok(new Currency('gbp').minimumCharge.equals(gbp(30)))
})

test('a number that is not a safe integer is a typed error, never rounded', () => {
  for (const amount of [1.5, Number.NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 1e300]) {
    assert.throws(() => new Money(amount, 'gbp'), isError(ValidationError, 'not_a_safe_integer'), String(amount))
  }
  assert.equal(new Money(Number.MAX_SAFE_INTEGER, 'gbp').amount, Number.MAX_SAFE_INTEGER)
  assert.throws(() => gbp(100).mul(0.5), isError(ValidationError, 'not_a_safe_integer'))
  assert.throws(() => new Money(Number.MAX_SAFE_INTEGER, 'gbp').mul(2).amount, isError(ValidationError, 'not_a_safe_integer'))
  assert.throws(() => new Money(9e15, 'gbp').mul(2000), isError(ValidationError, 'amount_overflow'))
})

test('bad money is refused with the core codes', () => {
  assert.throws(() => Money.parse('12.345', 'gbp'), isError(ValidationError, 'too_many_decimals'))
  assert.throws(() => new Money(100, 'xyz'), isError(ValidationError, 'unknown_currency'))
  assert.throws(() => gbp(100).add(new Money(100, 'usd')), isError(ValidationError, 'currency_mismatch'))
  assert.throws(() => gbp(100).compare(new Money(100, 'usd')), isError(ValidationError, 'currency_mismatch'))
  assert.throws(() => new Money(100_000_000_00, 'gbp').stripeAmount(), ValidationError)
})

test('parties carry host ids, ISO dates and plain practitioners; toString shows ids only', () => {
  const ada = patient('P-7', {
    givenName: 'Ada',
    familyName: 'Lovelace',
    dateOfBirth: '1815-12-10',
    registeredPractitioner: { id: 'PR-1', name: 'Dr Okafor' },
    defaultPayer: 'ORG-1',
  })
  assert.equal(ada.fullName, 'Ada Lovelace')
  assert.equal(ada.dateOfBirth, '1815-12-10')
  assert.deepEqual(ada.registeredPractitioner, { id: 'PR-1', name: 'Dr Okafor' })
  assert.equal(ada.payer.kind, 'organisation')
  assert.equal(String(ada), 'Patient(P-7)')
  assert.ok(!String(ada).includes('Lovelace'))
  const copy = Patient.fromJSON(ada.toJSON())
  assert.equal(copy.email, ada.email)
  const org = new Organisation({ id: 'ORG-1', name: 'Northwind' })
  assert.ok(org.payer.equals(PayerRef.organisation('ORG-1')))
  assert.equal(PayerRef.patient('P-1').toString(), 'patient:P-1')
  assert.throws(() => patient(''), isError(ValidationError, 'invalid_host_id'))
  assert.throws(() => patient('P-1', { dateOfBirth: '2026-02-30' }), isError(ValidationError, 'invalid_date'))
  assert.throws(() => Patient.fromJSON({ id: 'P-1' }), isError(ValidationError, 'invalid_type'))
})

test('drafts add up their lines and refuse options that do not go together', () => {
  const item = new CatalogueItem({ key: 'follow-up', name: 'Follow-up session', unitAmount: gbp(5000), slotType: 'Follow-up' })
  const line = InvoiceLine.fromCatalogue(item, { quantity: 2, serviceDate: '2026-01-01' })
  assert.equal(line.catalogueKey, 'follow-up')
  assert.deepEqual(line.serviceDates, ['2026-01-01', '2026-01-01'])
  assert.ok(line.amount.equals(gbp(10000)))
  const credit = new InvoiceLine({ description: 'Goodwill', unitAmount: gbp(-500), period: ['2026-01-01', '2026-01-31'] })
  assert.ok(credit.isCredit)
  const john = patient()
  const draft = new InvoiceDraft({
    payer: john,
    hostId: 'INV-1',
    lines: [line, credit],
    memo: 'Thank you',
    dueInDays: 14,
    context: new AppointmentContext({ appointmentId: 'APT-1', date: '2026-01-01', locationId: 'LOC-1', locationName: 'Clinic' }),
  })
  assert.ok(draft.total().equals(gbp(9500)))
  assert.equal(draft.collectionMethod, 'send_invoice')
  assert.equal(draft.patientId, 'P-1001')
  draft.addLine(new InvoiceLine({ description: 'Kit', unitAmount: gbp(3500) }))
  assert.equal(draft.revision, 1)
  assert.equal(draft.removeLine(2).description, 'Kit')
  assert.throws(() => draft.removeLine(9), isError(ValidationError, 'argument_out_of_range'))
  assert.equal(InvoiceDraft.fromJSON(draft.toJSON()).lines.length, 2)
  assert.throws(
    () => new InvoiceDraft({ payer: john, dueInDays: 3, dueOn: '2026-02-01' }),
    isError(ValidationError, 'conflicting_arguments'),
  )
  assert.throws(() => new AppointmentContext({ locationId: 'LOC-1' }), isError(ValidationError, 'incomplete_arguments'))
  assert.throws(() => new InvoiceLine({ description: 'x', unitAmount: gbp(1), quantity: 1.5 }), isError(ValidationError, 'not_a_safe_integer'))
  assert.throws(() => new InvoiceLine({ description: 'x', unitAmount: gbp(1), quantity: -1 }), isError(ValidationError, 'argument_out_of_range'))
  assert.throws(() => new InvoiceDraft({ payer: john, lines: [] }).total(), ValidationError)
})

test('rates select what is invoiced and who pays it; the balance rule is Stripe\'s', () => {
  const rates = [
    new BillingRate({ id: 'R-INS', name: 'General Service', invoiced: true, payer: 'insurance' }),
    new BillingRate({ id: 'R-SELF', name: 'Self-Pay', invoiced: true, payer: 'client' }),
    new BillingRate({ id: 'R-OFF', name: 'Not invoiced', invoiced: false, payer: 'client' }),
  ]
  const services = [
    new Service({ id: 'S-1', patientId: 'P-1', date: '2026-01-01', rateId: 'R-INS', amount: gbp(12000) }),
    new Service({ id: 'S-2', patientId: 'P-1', date: '2026-01-01', rateId: 'R-SELF', amount: gbp(12000), insurerPayment: gbp(8000) }),
    new Service({ id: 'S-3', patientId: 'P-1', date: '2026-01-01', rateId: 'R-OFF', amount: gbp(1000) }),
  ]
  assert.ok(services[1].clientPart().equals(gbp(4000)))
  assert.ok(services[1].toLine(rates[1]).amount.equals(gbp(4000)))
  const groups = selectInvoiceable(services, rates, { defaultPayers: { 'P-1': 'ORG-1' } })
  assert.deepEqual(
    groups.map((group) => [group.payer.toString(), group.serviceIds]).sort(),
    [['organisation:ORG-1', ['S-1']], ['patient:P-1', ['S-2']]],
  )
  assert.throws(() => new BillingRate({ id: 'R', name: 'x', invoiced: true, payer: 'employer' }), isError(ValidationError, 'unknown_rate_payer'))
  const applied = applyBalance(gbp(8500), gbp(-5000))
  assert.equal(applied.outcome, 'open')
  assert.ok(applied.amountDue.equals(gbp(3500)))
  assert.equal(applyBalance(gbp(2000), gbp(-5000)).outcome, 'paid_nothing_due')
})

test('the metadata policy renders, switches fields off and refuses unknown ones', () => {
  const policy = MetadataPolicy.heroCompatible().without(['patient_gender', 'patient_date_of_birth'])
  assert.ok(!policy.isEnabled('patient_gender'))
  assert.ok(policy.disabledFields.includes('patient_date_of_birth'))
  assert.ok(metadataFields().includes('patient_name'))
  const rendered = policy.render('invoice', { patient_name: 'Ada Lovelace', patient_gender: 'female' }, { extra: { source: 'ehr' } })
  assert.ok(Object.values(rendered).includes('Ada Lovelace'))
  assert.ok(!Object.values(rendered).includes('female'))
  assert.equal(rendered.source, 'ehr')
  assert.throws(() => policy.without('favourite_colour'), ValidationError)
  assert.throws(() => policy.render('ledger', {}), ValidationError)
  assert.throws(() => policy.render('invoice', { patient_name: 'x'.repeat(501) }), ValidationError)
  const secret = policy.withPseudonymSecret('a practice secret of 32 bytes!!!')
  assert.ok(String(secret).includes('pseudonym secret: set'))
  assert.ok(!String(secret).includes('practice secret'))
  assert.throws(() => policy.withPseudonymSecret('short'), ValidationError)
  assert.equal(MetadataPolicy.minimal().isEnabled('patient_name'), false)
})
