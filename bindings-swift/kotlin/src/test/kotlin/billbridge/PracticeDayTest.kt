// A practice day through the generated Kotlin package and the real library (JNA):
// customers, a credit, a preview, raise and send, webhooks, a card payment, cash at
// reception, a void, the portal view, offline billing, the mock served over HTTP, one
// error of every category, and panics that the app survives.
package billbridge

import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.nio.file.Files

class PracticeDayTest {
    private val secret = "harbour-health-keys-2026"

    private fun gbp(pence: Long) = Money(pence, "gbp")

    private val john = Patient(id = "P-1001", givenName = "John", familyName = "Deer", email = "john@example.com")
    private val ben = Patient(id = "P-1002", givenName = "Ben", familyName = "Carter", email = "ben@example.com")

    private fun draft(id: String, patient: Patient, vararg amounts: Long) = InvoiceDraft(
        hostInvoiceId = id,
        billTo = BillTo.Patient(patient),
        lines = amounts.mapIndexed { index, amount -> InvoiceLine(description = "Session ${index + 1}", unitAmount = gbp(amount)) },
        due = InvoiceDue.InDays(14u),
    )

    /** A mock and a bridge over it that accepts the mock's webhooks. */
    private fun practice(): Pair<MockStripe, Billbridge> {
        val mock = MockStripe(seed = 7)
        val options = BridgeOptions(idempotencySecret = secret, webhookSecret = mock.webhookSecret())
        return mock to Billbridge.overMock(mock, options)
    }

    private suspend fun deliverWebhooks(mock: MockStripe, bridge: Billbridge): List<WebhookOutcome> =
        mock.takeWebhooks().map { bridge.handleWebhook(it.body, it.signatureHeader) }

    @Test
    fun `a yen remainder below the minimum charge is carried to the balance, not received`() = runBlocking {
        val (_, bridge) = practice()
        val ana = Patient(id = "P-YEN", givenName = "Ana", familyName = "Sato", email = "ana@example.com")
        bridge.upsertCustomer(Party.Patient(ana))
        val anaPays = PayerRef.Patient("P-YEN")
        bridge.adjustBalance(anaPays, Money(-6570, "jpy"), "Prepaid", "PKG-1")
        val yenDraft = InvoiceDraft(
            hostInvoiceId = "INV-YEN",
            billTo = BillTo.Patient(ana),
            lines = listOf(InvoiceLine(description = "Treatment", unitAmount = Money(6600, "jpy"))),
        )
        val preview = bridge.preview(yenDraft)
        assertEquals(Money(0, "jpy"), preview.amountDue)
        assertEquals(Money(30, "jpy"), preview.carriedToBalance)
        val invoice = bridge.raiseInvoice(yenDraft, RaiseMode.FINALIZE)
        assertEquals(InvoiceStatus.Paid, invoice.status)
        assertEquals(Money(0, "jpy"), invoice.amountPaid)
        assertEquals(Money(30, "jpy"), invoice.carriedToBalance)
        assertEquals(Money(30, "jpy"), bridge.balance(anaPays))
    }

    @Test
    fun `a server error saved after execution is settled exactly once`() = runBlocking {
        val (mock, bridge) = practice()
        // Stripe applied the request, then answered 500 and saved that answer under the
        // idempotency key: every retry gets the same 500 back.
        mock.failNext("/v1/customers", MockFault.SERVER_ERROR_AFTER_EXECUTION, times = 1u)
        val created = bridge.upsertCustomer(Party.Patient(john))
        mock.clearFaults()
        assertTrue(created.stripeCustomerId.startsWith("cus_"))
        assertEquals(UpsertOutcome.UNCHANGED, bridge.upsertCustomer(Party.Patient(john)).outcome)
        assertEquals(created.stripeCustomerId, bridge.customerId(PayerRef.Patient("P-1001")))
    }

    @Test
    fun `a practice day runs through the real library`() = runBlocking {
        val (mock, bridge) = practice()

        // Customers: created once, unchanged when nothing changed.
        val customer = bridge.upsertCustomer(Party.Patient(john))
        assertEquals(UpsertOutcome.CREATED, customer.outcome)
        assertTrue(customer.stripeCustomerId.startsWith("cus_"))
        assertEquals(UpsertOutcome.UNCHANGED, bridge.upsertCustomer(Party.Patient(john)).outcome)
        bridge.upsertCustomer(Party.Patient(ben))
        val insurer = Organisation(id = "ORG-1", name = "Harbour Insurance")
        assertEquals(PartyKind.ORGANISATION, bridge.upsertCustomer(Party.Organisation(insurer)).partyKind)
        assertEquals(customer.stripeCustomerId, bridge.customerId(PayerRef.Patient("P-1001")))

        // A missed prepaid visit kept as credit, applied exactly once.
        val johnPays = PayerRef.Patient("P-1001")
        val credit = bridge.adjustBalance(johnPays, gbp(-5000), "Missed visit kept as credit", "APT-1")
        assertEquals(gbp(-5000), credit.endingBalance)
        bridge.adjustBalance(johnPays, gbp(-5000), "Missed visit kept as credit", "APT-1")
        assertEquals(gbp(-5000), bridge.balance(johnPays))

        // The preview: 85.00 invoiced, the credit applied, 35.00 due; nothing created.
        val inv1 = draft("INV-1", john, 5000, 3500)
        val preview = bridge.preview(inv1)
        assertEquals(gbp(8500), preview.total)
        assertEquals(gbp(-5000), preview.appliedBalance)
        assertEquals(gbp(3500), preview.amountDue)
        assertEquals(gbp(0), preview.carriedToBalance)
        assertNull(bridge.invoice("INV-1"))

        // Raise and send: number, payment page and PDF come back.
        val raised = bridge.raiseInvoice(inv1, RaiseMode.FINALIZE_AND_SEND)
        assertEquals(InvoiceStatus.Open, raised.status)
        assertEquals(gbp(8500), raised.total)
        assertEquals(gbp(3500), raised.amountDue)
        assertEquals(gbp(3500), raised.amountRemaining)
        assertNotNull(raised.number)
        assertNotNull(raised.hostedInvoiceUrl)
        assertNotNull(raised.invoicePdf)
        assertEquals("35.00", raised.amountDue.decimal())
        // Raising it again (a retry after a lost answer) finishes the same invoice.
        assertEquals(raised.stripeInvoiceId, bridge.raiseInvoice(inv1, RaiseMode.FINALIZE_AND_SEND).stripeInvoiceId)

        // Webhooks: verified, applied, and a repeated delivery is a duplicate.
        val deliveries = mock.takeWebhooks()
        assertTrue(deliveries.any { it.eventType == "invoice.finalized" })
        val outcomes = deliveries.map { bridge.handleWebhook(it.body, it.signatureHeader) }
        val applied = deliveries[outcomes.indexOfFirst { it.disposition == WebhookDisposition.APPLIED }]
        val again = bridge.handleWebhook(applied.body, applied.signatureHeader)
        assertEquals(WebhookDisposition.DUPLICATE, again.disposition)
        val event = constructWebhookEvent(deliveries[0].body, deliveries[0].signatureHeader, mock.webhookSecret(), now = deliveries[0].signedAt)
        assertEquals(deliveries[0].eventId, event.id)

        // Ben pays by card on the payment page; the webhook reports it.
        val inv2 = bridge.raiseInvoice(draft("INV-2", ben, 6000), RaiseMode.FINALIZE_AND_SEND)
        mock.payInvoice(inv2.stripeInvoiceId, "pm_card_visa")
        val changes = deliverWebhooks(mock, bridge).flatMap { it.changes }
        assertTrue(changes.contains(WebhookChange.InvoicePaid("INV-2", gbp(6000))), changes.toString())
        assertEquals(InvoiceStatus.Paid, bridge.invoice("INV-2")?.status)

        // John pays the rest in cash at reception.
        val paid = bridge.markPaidOutsideStripe("INV-1", OutsidePayment(method = PaymentMethod.Cash, reference = "R-17"))
        assertEquals(InvoiceStatus.Paid, paid.status)
        assertEquals(PaymentMethod.Cash, paid.paidOutside?.method)
        assertNotNull(paid.paidOutside?.paidOn)

        // A mistaken invoice is voided.
        bridge.raiseInvoice(draft("INV-3", ben, 1200), RaiseMode.FINALIZE)
        assertEquals(InvoiceStatus.Void, bridge.void("INV-3").status)

        // An invoice Ben still owes, for his portal view.
        bridge.raiseInvoice(draft("INV-4", ben, 2500), RaiseMode.FINALIZE_AND_SEND)
        deliverWebhooks(mock, bridge)

        // The portal views: John owes nothing; Ben owes INV-4 and has its pay link.
        val johnsPortal = bridge.portal(johnPays)
        assertEquals(listOf("INV-1"), johnsPortal.invoices.map { it.invoice.hostInvoiceId })
        assertTrue(johnsPortal.remaining.all { it.amount == 0L }, johnsPortal.remaining.toString())
        val bensPortal = bridge.portal(PayerRef.Patient("P-1002"))
        assertEquals(setOf("INV-2", "INV-3", "INV-4"), bensPortal.invoices.map { it.invoice.hostInvoiceId }.toSet())
        val owing = bensPortal.invoices.single { it.invoice.status == InvoiceStatus.Open }
        assertEquals("INV-4", owing.invoice.hostInvoiceId)
        assertNotNull(owing.payLink)
        assertEquals(listOf(gbp(2500)), bensPortal.remaining)

        // Reports over the app's records.
        assertEquals(listOf("INV-4"), bridge.outstanding().map { it.hostInvoiceId })
        val paidOnes = bridge.invoices(InvoiceFilter(status = InvoiceStatus.Paid)).map { it.hostInvoiceId }
        assertEquals(setOf("INV-1", "INV-2"), paidOnes.toSet())
        val csv = Files.createTempFile("billbridge", ".csv")
        assertEquals(4L, bridge.exportInvoicesCsv(InvoiceFilter(), listOf("number", "status", "amount_remaining"), csv.toString()))
        assertTrue(Files.readString(csv).startsWith("number,status,amount_remaining"))
        Files.delete(csv)
    }

    @Test
    fun `calls run concurrently on the runtime`() = runBlocking {
        val (_, bridge) = practice()
        val patients = (1..8).map { Patient(id = "P-$it", givenName = "Patient", familyName = "$it") }
        val records = patients.map { async { bridge.upsertCustomer(Party.Patient(it)) } }.awaitAll()
        assertEquals(8, records.map { it.stripeCustomerId }.toSet().size)
    }

    @Test
    fun `the mock served over loopback HTTP works through the HTTP transport`() = runBlocking {
        val mock = MockStripe()
        val server = mock.serve()
        try {
            val bridge = Billbridge.overServer("sk_test_mock", server.url(), BridgeOptions(idempotencySecret = secret))
            val record = bridge.upsertCustomer(Party.Patient(john))
            assertEquals(UpsertOutcome.CREATED, record.outcome)
            assertTrue(mock.requestCount() > 0)
        } finally {
            server.shutdown()
        }
    }

    @Test
    fun `offline billing takes partial payments by hand`() = runBlocking {
        val billing = OfflineBilling(numberPrefix = "CLN")
        val raised = billing.raiseInvoice(draft("OFF-1", john, 5000), "2026-11-21")
        assertEquals("CLN-0001", raised.number)
        assertEquals(InvoiceStatus.Open, raised.status)
        val part = billing.recordPayment("OFF-1", ManualPaymentEntry(PaymentMethod.Cash, gbp(2000), "2026-11-21"))
        assertEquals(gbp(3000), part.amountRemaining)
        val rest = billing.recordPayment(
            "OFF-1",
            ManualPaymentEntry(PaymentMethod.Other("voucher"), gbp(3000), "2026-11-22", reference = "V-9"),
        )
        assertEquals(InvoiceStatus.Paid, rest.status)
        val invoice = billing.invoice("OFF-1")
        assertEquals(listOf(gbp(2000), gbp(3000)), invoice?.payments?.map { it.amount })
        assertEquals(PaymentChannel.Outside(PaymentMethod.Other("voucher")), invoice?.payments?.last()?.channel)
        val payments = billing.paymentsReceived(DayRange("2026-11-22", "2026-11-22"))
        assertEquals(listOf(gbp(3000)), payments.map { it.amount })
        assertTrue(billing.portal(PayerRef.Patient("P-1001")).remaining.all { it.amount == 0L })
        billing.raiseInvoice(draft("OFF-2", john, 1000), "2026-11-22")
        val overpaid = assertThrows<BillbridgeException.Validation> {
            runBlocking { billing.recordPayment("OFF-2", ManualPaymentEntry(PaymentMethod.Cash, gbp(1001), "2026-11-22")) }
        }
        assertEquals("overpayment", overpaid.code)
        val paidTwice = assertThrows<BillbridgeException.InvalidState> {
            runBlocking { billing.recordPayment("OFF-1", ManualPaymentEntry(PaymentMethod.Cash, gbp(1), "2026-11-22")) }
        }
        assertEquals("illegal_transition", paidTwice.code)
    }

    @Test
    fun `money is integer minor units checked by the core`() {
        assertEquals(Money(1250, "gbp"), parseMoney("12.50", "GBP"))
        assertEquals(Money(1200, "jpy"), money(1200, "JPY"))
        assertEquals("-5.00", gbp(-500).decimal())
        assertEquals("unknown_currency", assertThrows<BillbridgeException.Validation> { money(1, "xyz") }.code)
    }

    @Test
    fun `printing a record or the options shows no personal data or secret`() {
        val options = BridgeOptions(idempotencySecret = secret, webhookSecret = "whsec_abcdef")
        assertFalse(options.toString().contains(secret), options.toString())
        assertFalse(options.toString().contains("whsec_abcdef"), options.toString())
        assertFalse(john.toString().contains("John"), john.toString())
        assertTrue(john.toString().contains("P-1001"), john.toString())
    }

    @Test
    fun `every error category is thrown as its own case`() = runBlocking {
        val (mock, bridge) = practice()
        val thrown = mutableSetOf<Class<*>>()
        fun record(error: BillbridgeException): String {
            thrown += error.javaClass
            assertTrue(error.message!!.contains("code=${error.code()}"), error.message)
            assertEquals(error.javaClass.simpleName.uppercase(), error.category().name.replace("_", ""))
            return error.code()
        }

        // Validation: money is never rounded.
        val validation = assertThrows<BillbridgeException.Validation> { parseMoney("12.345", "gbp") }
        assertEquals("too_many_decimals", record(validation))
        assertNull(validation.stripe)

        // InvalidState: a paid invoice cannot be voided; nothing is sent.
        bridge.upsertCustomer(Party.Patient(john))
        bridge.raiseInvoice(draft("INV-9", john, 4000), RaiseMode.FINALIZE_AND_SEND)
        bridge.markPaidOutsideStripe("INV-9", OutsidePayment(method = PaymentMethod.Cheque))
        val before = mock.requestCount()
        val invalid = assertThrows<BillbridgeException.InvalidState> { runBlocking { bridge.void("INV-9") } }
        assertEquals("illegal_transition", record(invalid))
        assertEquals(before, mock.requestCount())

        // StripeApi: a declined card, with Stripe's details.
        val open = bridge.raiseInvoice(draft("INV-10", john, 4000), RaiseMode.FINALIZE_AND_SEND)
        val declined = assertThrows<BillbridgeException.StripeApi> {
            runBlocking { mock.payInvoice(open.stripeInvoiceId, "pm_card_chargeDeclined") }
        }
        record(declined)
        assertEquals(402.toUShort(), declined.stripe?.httpStatus)
        assertEquals("card_declined", declined.stripe?.stripeCode)
        assertEquals("card_error", declined.stripe?.stripeType)

        // Transport: Stripe unreachable through every retry.
        mock.failNext("/v1/customers", MockFault.CONNECTION_RESET, times = 5u)
        val transport = assertThrows<BillbridgeException.Transport> {
            runBlocking { bridge.upsertCustomer(Party.Patient(ben)) }
        }
        record(transport)
        mock.clearFaults()

        // Signature: a forged delivery.
        val forged = assertThrows<BillbridgeException.Signature> {
            runBlocking { bridge.handleWebhook("{}".toByteArray(), "t=1,v1=00") }
        }
        record(forged)

        // Store: the SQLite file cannot be created.
        val missing = Files.createTempDirectory("billbridge").resolve("no/such/dir/billbridge.db").toString()
        val store = assertThrows<BillbridgeException.Store> {
            Billbridge.overMock(mock, BridgeOptions(idempotencySecret = secret, storePath = missing))
        }
        record(store)

        // Io: the CSV destination cannot be written.
        val io = assertThrows<BillbridgeException.Io> {
            runBlocking { bridge.exportInvoicesCsv(InvoiceFilter(), listOf("number"), missing) }
        }
        record(io)

        // Internal: a panic, thrown instead of aborting the app.
        val internal = assertThrows<BillbridgeException.Internal> { panicForTests("forced for the test") }
        assertEquals("panic", record(internal))
        assertTrue(internal.reason.contains("forced for the test"), internal.reason)

        val declared = BillbridgeException::class.java.declaredClasses
            .filter { BillbridgeException::class.java.isAssignableFrom(it) }
            .toSet()
        assertEquals(8, declared.size)
        assertEquals(declared, thrown.toSet())
    }

    @Test
    fun `a panic in a suspend call is thrown and the library keeps working`() = runBlocking {
        val error = assertThrows<BillbridgeException.Internal> { runBlocking { panicForTestsAsync("forced async") } }
        assertEquals("panic", error.code)
        assertTrue(error.reason.contains("forced async"), error.reason)
        repeat(3) { assertThrows<BillbridgeException.Internal> { panicForTests("again") } }
        val (_, bridge) = practice()
        assertEquals(UpsertOutcome.CREATED, bridge.upsertCustomer(Party.Patient(john)).outcome)
        assertTrue(billbridgeVersion().isNotBlank())
    }
}
