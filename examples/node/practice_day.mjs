// A day at Harbour Health, billed through billbridge on the mock Stripe.
//
// Reads the practice's data (examples/data/practice_day.json), syncs everyone to
// Stripe customers, keeps a missed visit's prepayment as credit, raises the day's
// invoices, records a cash payment, follows a card payment through its webhook, voids a
// cancelled visit's invoice, bills an insurance remainder to the patient and exports
// the end-of-day reports as CSV (one to a file path, one to a writable stream), with
// the host's links kept in a SQLite store.
//
// Run it with `node examples/node/practice_day.mjs [output folder]`.
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'

import {
  AppointmentContext, Billbridge, BillingRate, CatalogueItem, InvoiceDraft, InvoiceLine,
  MetadataPolicy, MockStripe, Money, Organisation, Patient, Service, SqliteStore, writeCsv,
  writePaymentsCsv,
} from 'billbridge'

const DATA = new URL('../data/practice_day.json', import.meta.url)
const TODAY = '2026-01-01'

const gbp = (pence) => new Money(pence, 'gbp')

/** Plays the day; returns the host's invoice records by appointment (or service) id. */
export async function main(reports) {
  const day = JSON.parse(await readFile(DATA, 'utf8'))
  const { practice } = day
  const folder = reports ?? (await mkdtemp(join(tmpdir(), 'harbour-health-')))
  await mkdir(folder, { recursive: true })
  const practitioners = new Map(day.practitioners.map((item) => [item.id, { id: item.id, name: item.name }]))
  const locations = new Map(day.locations.map((item) => [item.id, item.name]))
  const catalogue = day.catalogue.map(
    (item) => new CatalogueItem({ key: item.key, name: item.name, unitAmount: gbp(item.unit_amount), slotType: item.slot_type }),
  )
  const bySlot = new Map(catalogue.filter((item) => item.slotType).map((item) => [item.slotType, item]))
  const byKey = new Map(catalogue.map((item) => [item.key, item]))

  // A bridge over the mock lives on the mock's clock and accepts its deliveries; the
  // host's links to Stripe survive restarts in SQLite.
  const stripe = new MockStripe()
  const bridge = new Billbridge({
    stripe,
    idempotencySecret: 'harbour-health-idempotency-secret',
    webhookSecret: stripe.webhookSecret,
    metadataPolicy: MetadataPolicy.heroCompatible().without(practice.metadata_fields_off),
    store: await SqliteStore.open(join(folder, 'billbridge.db')),
    catalogue,
    currency: practice.currency,
    defaultDaysUntilDue: practice.default_days_until_due,
  })

  // 1. Every organisation and patient becomes a Stripe customer.
  for (const organisation of day.organisations) {
    await bridge.upsertCustomer(new Organisation({ id: organisation.id, name: organisation.name, email: organisation.email }))
  }
  const patients = new Map()
  for (const record of day.patients) {
    const patient = new Patient({
      id: record.id,
      givenName: record.given_name,
      familyName: record.family_name,
      dateOfBirth: record.date_of_birth,
      gender: record.gender,
      mobile: record.mobile,
      email: record.email,
      postcode: record.postcode,
      registeredPractitioner: practitioners.get(record.registered_practitioner),
      defaultPayer: record.default_payer,
    })
    await bridge.upsertCustomer(patient)
    patients.set(patient.id, patient)
  }

  const appointments = new Map(day.appointments.map((appointment) => [appointment.id, appointment]))
  const draftFor = (appointmentId, ...extra) => {
    const appointment = appointments.get(appointmentId)
    return new InvoiceDraft({
      payer: patients.get(appointment.patient),
      hostId: `INV-${appointmentId}`,
      lines: [InvoiceLine.fromCatalogue(bySlot.get(appointment.slot_type)), ...extra],
      dueInDays: practice.default_days_until_due,
      context: new AppointmentContext({
        appointmentId,
        date: TODAY,
        locationId: appointment.location,
        locationName: locations.get(appointment.location),
        practitioner: practitioners.get(appointment.practitioner),
      }),
    })
  }
  const raise = (appointmentId, ...extra) => {
    const patient = patients.get(appointments.get(appointmentId).patient)
    return bridge.raiseInvoice(draftFor(appointmentId, ...extra), { patient, mode: 'finalize_and_send' })
  }

  // 2. John missed a prepaid follow-up at late notice: the payment stays as credit.
  const john = patients.get('P-1001')
  await bridge.adjustBalance(john, gbp(appointments.get('APT-1').prepaid).neg(), {
    reason: 'Missed appointment: kept as credit',
    adjustmentId: 'APT-1',
  })

  // 3. John's visit and a home test kit: the credit applies at finalization.
  const invoices = {}
  invoices['APT-2'] = await raise('APT-2', InvoiceLine.fromCatalogue(byKey.get('blood-test-kit')))

  // 4. María's insurer pays; the invoice still carries her patient metadata (the
  //    patient given to raiseInvoice supplies it, whoever pays).
  invoices['APT-3'] = await raise('APT-3')

  // 5. Aiko owes postage from an earlier kit: a debit on her balance.
  await bridge.adjustBalance(patients.get('P-1003'), byKey.get('postage').unitAmount, {
    reason: 'Postage',
    adjustmentId: 'POSTAGE-P-1003',
  })
  invoices['APT-4'] = await raise('APT-4')

  // 6. Ben pays cash at reception.
  await raise('APT-5')
  invoices['APT-5'] = await bridge.markPaidOutsideStripe('INV-APT-5', { method: 'cash', reference: 'RECEIPT-0042', paidOn: TODAY })

  // 7. Chloé pays on the hosted page; the webhook tells the host.
  const chloe = await raise('APT-6')
  stripe.takeWebhooks()
  await stripe.payInvoice(chloe.stripeInvoiceId)
  for (const delivery of stripe.takeWebhooks()) {
    const outcome = await bridge.handleWebhook(delivery.body, delivery.signatureHeader)
    for (const change of outcome.changes) {
      if (change.kind === 'invoice_paid') console.log(`webhook: ${change.hostInvoiceId} paid ${change.amountPaid}`)
    }
  }
  invoices['APT-6'] = (await bridge.invoice('INV-APT-6')) ?? chloe

  // 8. Dev's appointment was cancelled after invoicing: void the invoice.
  await raise('APT-7')
  invoices['APT-7'] = await bridge.void('INV-APT-7')

  // 9. Eli's session: insurance paid 80.00 of 120.00; the remainder is billed to Eli.
  const rates = day.billing_rates.map((rate) => new BillingRate({ id: rate.id, name: rate.name, invoiced: rate.invoiced, payer: rate.payer }))
  const session = new Service({
    id: 'SVC-ELI-1',
    patientId: 'P-1007',
    date: TODAY,
    rateId: 'RATE-GEN-SELF',
    amount: gbp(12000),
    insurerPayment: gbp(8000),
  })
  for (const billed of await bridge.raiseForServices([session], rates, { invoicedOn: TODAY, patients: [patients.get('P-1007')] })) {
    if (billed.record) invoices['SVC-ELI-1'] = billed.record
  }

  // 10. End of day: outstanding invoices (to a path) and payments received (to a
  //     stream), as CSV.
  const outstanding = await bridge.outstanding()
  await writeCsv(
    outstanding,
    ['number', 'status', 'amount_due', 'meta:patient_name', 'meta:appointment_practitioner'],
    join(folder, 'outstanding.csv'),
  )
  const payments = await bridge.paymentsReceived(TODAY, TODAY)
  const stream = createWriteStream(join(folder, 'payments.csv'))
  await writePaymentsCsv(payments, ['date', 'invoice_number', 'method', 'amount'], stream)
  stream.end()
  await finished(stream)
  console.log(`${outstanding.length} outstanding, ${payments.length} payments: reports in ${folder}`)

  for (const [key, invoice] of Object.entries(invoices)) {
    console.log(
      `${key}: ${invoice.status.padEnd(6)} ${invoice.amountDue} due, ${invoice.amountPaid} paid (${invoice.payer.kind} ${invoice.payer.id})`,
    )
  }
  return invoices
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main(process.argv[2])
}
