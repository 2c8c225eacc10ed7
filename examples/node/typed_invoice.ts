// The binding from TypeScript with --strict: every value below is typed by the
// package's generated index.d.ts (checked by `tsc --noEmit --strict`, then run).
import {
  Billbridge, BillbridgeError, InvoiceDraft, InvoiceLine, MockStripe, Money, Organisation, Patient,
  StripeApiError, type InvoiceRecord, type Portal,
} from 'billbridge'

async function raiseAndPay(): Promise<{ record: InvoiceRecord; portal: Portal }> {
  const stripe = new MockStripe({ seed: 7 })
  const bridge = new Billbridge({ stripe, idempotencySecret: 'typescript-example-secret' })
  const insurer = new Organisation({ id: 'ORG-1', name: 'Northwind Insurance' })
  const ada = new Patient({ id: 'P-1', givenName: 'Ada', familyName: 'Lovelace', defaultPayer: insurer.id })
  await bridge.upsertCustomer(insurer)
  await bridge.upsertCustomer(ada)
  const fee: Money = Money.parse('120.00', 'gbp')
  const draft = new InvoiceDraft({
    payer: ada,
    hostId: 'INV-TS-1',
    lines: [new InvoiceLine({ description: 'Assessment', unitAmount: fee, quantity: 1 })],
  })
  const record = await bridge.raiseInvoice(draft, { patient: ada, mode: 'finalize_and_send' })
  try {
    await stripe.payInvoice(record.stripeInvoiceId, { paymentMethod: 'pm_card_chargeDeclined' })
  } catch (error: unknown) {
    if (!(error instanceof StripeApiError) || error.declineCode === undefined) throw error
    const code: string = error.code
    const status: number | null = error.status
    console.log(`declined: ${code} (${status ?? 'no status'})`)
  }
  await bridge.markPaidOutsideStripe(record.hostInvoiceId, { method: 'insurance', reference: 'CLAIM-9' })
  const portal = await bridge.portal(insurer)
  return { record, portal }
}

const { record, portal } = await raiseAndPay()
const remaining: Money = portal.remainingIn('gbp')
const owing: number = remaining.amount
const check: BillbridgeError | null = null
console.log(`${record.hostInvoiceId}: ${record.total} raised for ${record.payer}, ${owing} pence still owing`, check)
