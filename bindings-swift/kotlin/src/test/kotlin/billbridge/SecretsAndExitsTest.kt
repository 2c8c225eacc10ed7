// Secrets and personal data never show through the Kotlin package, and no input, panic
// or exit takes the JVM down.
//
// Secrets: every secret and personal field gets a distinctive canary value, a practice
// day runs on the mock, and `toString()` of every record and object met (options,
// parties, drafts, lines, appointments, payments, records, portals, deliveries, events,
// webhook outcomes) and of every exception (`toString()` and `message`) is scanned for
// the canaries. Stripe's own message, which can echo what was sent, is not carried at
// all. The library writes nothing to stdout or stderr of its own; the JVM child of the
// exit test below has its whole output scanned for the canaries it was given.
//
// No abort: malformed inputs (amounts and quantities at the ends of their ranges, lone
// surrogates, bytes that are not UTF-8, empty strings, null passed from Java where
// Kotlin forbids it), the forced panics (blocking and suspending) and an exit with
// suspend calls in flight, all in one small program run in 30 child JVMs: every run
// must end with code 0 and its closing line. A JVM takes a second to start, hence 30
// runs rather than the other bindings' 50.
package billbridge

import com.sun.net.httpserver.HttpServer
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File
import java.lang.reflect.InvocationTargetException
import java.net.InetSocketAddress
import java.time.Instant
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess

private const val SECRET_KEY = "sk_test_CanarySecretKey7Qx9Hv"
private const val RESTRICTED_KEY = "rk_live_CanaryRestrictedKey4Zp"
private const val WEBHOOK_SECRET = "whsec_CanaryWebhookSecret3Lm8"
private const val IDEMPOTENCY_SECRET = "canary-idempotency-secret-8Kd2"
private const val PRACTICE_SECRET = "canary-practice-secret-5Vt1Qa"
private const val PROXY_PASSWORD = "CanaryProxyPassword6Wn"
private const val GIVEN_NAME = "Zebedee"
private const val FAMILY_NAME = "Quillfeather"
private const val EMAIL = "zebedee.quill@canary.example"
private const val MOBILE = "+447700900987"
private const val POSTCODE = "ZZ9 9QX"
private const val DATE_OF_BIRTH = "1968-07-14"
private const val GENDER = "Canarygender"
private const val PRACTITIONER_NAME = "Dr Cassia Canaryman"
private const val ORGANISATION_NAME = "Quillfeather Family Trust"
private const val ORGANISATION_EMAIL = "trustee@quill-trust.example"
private const val ORGANISATION_PHONE = "+441170000321"
private const val LINE_DESCRIPTION = "Knee review for Zebedee's canary injury"
private const val LINE_METADATA_VALUE = "canary-line-metadata-value-77"
private const val MEMO = "Canary memo about the patient"
private const val FOOTER = "Canary footer for the patient"
private const val BILLING_ARRANGEMENT = "Canary arrangement with the trust"
private const val BALANCE_REASON = "Canary refund for the missed visit"
private const val PAYMENT_REFERENCE = "CANARY-CHEQUE-REF-4411"

private val CANARIES = listOf(
    SECRET_KEY, "CanarySecretKey7Qx9Hv", RESTRICTED_KEY, "CanaryRestrictedKey4Zp", WEBHOOK_SECRET,
    "CanaryWebhookSecret3Lm8", IDEMPOTENCY_SECRET, PRACTICE_SECRET, PROXY_PASSWORD, GIVEN_NAME, FAMILY_NAME,
    EMAIL, MOBILE, "7700900987", POSTCODE, DATE_OF_BIRTH, GENDER, PRACTITIONER_NAME, ORGANISATION_NAME,
    ORGANISATION_EMAIL, ORGANISATION_PHONE, LINE_DESCRIPTION, LINE_METADATA_VALUE, MEMO, FOOTER,
    BILLING_ARRANGEMENT, BALANCE_REASON, PAYMENT_REFERENCE, "1968-02-30",
)

private fun assertClean(what: String, shown: String?) {
    for (canary in CANARIES) {
        assertFalse(shown.orEmpty().contains(canary), "$what shows \"$canary\": $shown")
    }
}

private fun assertCleanError(what: String, error: Throwable) {
    assertClean(what, error.toString())
    assertClean(what, error.message)
    assertClean(what, error.stackTraceToString().lineSequence().first())
}

private fun gbp(pence: Long) = Money(pence, "gbp")

private val practitioner = Practitioner(id = "PR-9", name = PRACTITIONER_NAME)

private fun zebedee(email: String = EMAIL, dateOfBirth: String = DATE_OF_BIRTH) = Patient(
    id = "P-9001", givenName = GIVEN_NAME, familyName = FAMILY_NAME, dateOfBirth = dateOfBirth, gender = GENDER,
    mobile = MOBILE, email = email, postcode = POSTCODE, registeredPractitioner = practitioner,
)

private val trust = Organisation(id = "ORG-9", name = ORGANISATION_NAME, email = ORGANISATION_EMAIL, phone = ORGANISATION_PHONE)

private val appointment = Appointment(
    appointmentId = "APT-9", day = "2026-03-02", locationId = "LOC-9", locationName = "Harbour Street Clinic",
    practitioner = practitioner, billingAndCollection = BILLING_ARRANGEMENT,
)

private fun line(metadataValue: String = LINE_METADATA_VALUE) =
    InvoiceLine(description = LINE_DESCRIPTION, unitAmount = gbp(6500), metadata = mapOf("ward" to metadataValue))

private fun draft(id: String) = InvoiceDraft(
    hostInvoiceId = id, billTo = BillTo.Patient(zebedee()),
    lines = listOf(line(), InvoiceLine(description = LINE_DESCRIPTION, unitAmount = gbp(-1500))),
    memo = MEMO, footer = FOOTER, due = InvoiceDue.InDays(14u), appointment = appointment,
)

private fun rules() = MetadataRules(
    preset = MetadataPreset.HERO_COMPATIBLE, switchOn = listOf(MetadataField.PATIENT_MOBILE),
    pseudonymSecret = PRACTICE_SECRET.toByteArray(),
)

class SecretsAndExitsTest {
    @Test
    fun `options, parties, drafts and lines print no secret and no personal value`() {
        val options = BridgeOptions(idempotencySecret = IDEMPOTENCY_SECRET, webhookSecret = WEBHOOK_SECRET, metadata = rules())
        for ((what, value) in listOf(
            "BridgeOptions" to options, "MetadataRules" to rules(), "Practitioner" to practitioner,
            "Patient" to zebedee(), "Organisation" to trust, "Party" to Party.Patient(zebedee()),
            "Party" to Party.Organisation(trust), "Appointment" to appointment, "InvoiceLine" to line(),
            "InvoiceDraft" to draft("INV-K1"), "BillTo" to BillTo.Patient(zebedee()),
            "OutsidePayment" to OutsidePayment(method = PaymentMethod.Cheque, reference = PAYMENT_REFERENCE),
            "ManualPaymentEntry" to ManualPaymentEntry(PaymentMethod.Cheque, gbp(100), "2026-03-02", reference = PAYMENT_REFERENCE),
        )) {
            assertClean(what, value.toString())
        }
        assertTrue(practitioner.toString().contains("PR-9"), practitioner.toString())
        assertTrue(line().toString().contains("ward"), line().toString())
    }

    @Test
    fun `refused secrets and personal values are not echoed by their errors`() = runBlocking {
        val mock = MockStripe()
        val options = BridgeOptions(idempotencySecret = IDEMPOTENCY_SECRET)
        val bridge = Billbridge.overMock(mock, options)
        val refused = listOf<suspend () -> Unit>(
            { Billbridge("pk_test_CanarySecretKey7Qx9Hv", options) },
            { Billbridge("sk_CanarySecretKey7Qx9Hv", options) },
            { Billbridge(RESTRICTED_KEY.replace("rk_", "xk_"), options) },
            { Billbridge.overServer(SECRET_KEY, "ftp://billing:$PROXY_PASSWORD@proxy.example", options) },
            { Billbridge.overMock(mock, BridgeOptions(idempotencySecret = "CanaryWebhook")) },
            { Billbridge.overMock(mock, BridgeOptions(idempotencySecret = IDEMPOTENCY_SECRET, webhookSecret = "CanaryWebhookSecret3Lm8")) },
            { Billbridge.overMock(mock, options.copy(metadata = rules().copy(pseudonymSecret = "Canary".toByteArray()))) },
            { constructWebhookEvent("{}".toByteArray(), "t=1,v1=00", WEBHOOK_SECRET) },
            { bridge.upsertCustomer(Party.Patient(zebedee(email = "$EMAIL $MOBILE"))) },
            { bridge.upsertCustomer(Party.Patient(zebedee(dateOfBirth = "1968-02-30"))) },
            { bridge.upsertCustomer(Party.Organisation(trust.copy(phone = "$ORGANISATION_PHONE $GIVEN_NAME"))) },
            { bridge.preview(draft("INV-K2").copy(lines = listOf(line(LINE_METADATA_VALUE.repeat(20))))) },
        )
        for (action in refused) {
            val error = try {
                action()
                null
            } catch (error: BillbridgeException) {
                error
            }
            assertTrue(error != null, "expected an error")
            assertCleanError("a refused value", error!!)
        }
    }

    @Test
    fun `a Stripe error echoing the request is thrown without Stripe's text`() = runBlocking {
        val server = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
        server.createContext("/") { exchange ->
            exchange.requestBody.readAllBytes()
            val body = """{"error":{"type":"invalid_request_error","code":"email_invalid","param":"email",""" +
                """"message":"Invalid email address: $EMAIL ($GIVEN_NAME $FAMILY_NAME)"}}"""
            exchange.responseHeaders.add("Content-Type", "application/json")
            exchange.responseHeaders.add("Request-Id", "req_canary")
            exchange.sendResponseHeaders(400, body.toByteArray().size.toLong())
            exchange.responseBody.use { it.write(body.toByteArray()) }
        }
        server.start()
        try {
            val url = "http://127.0.0.1:${server.address.port}"
            val bridge = Billbridge.overServer(SECRET_KEY, url, BridgeOptions(idempotencySecret = IDEMPOTENCY_SECRET))
            val error = try {
                bridge.upsertCustomer(Party.Patient(zebedee()))
                null
            } catch (error: BillbridgeException.StripeApi) {
                error
            }
            assertTrue(error != null, "expected a StripeApi error")
            assertEquals("stripe_invalid_request", error!!.code)
            assertEquals("email", error.stripe?.param)
            assertEquals("req_canary", error.stripe?.requestId)
            assertCleanError("a Stripe error", error)
        } finally {
            server.stop(0)
        }
    }

    @Test
    fun `a practice day prints nothing personal`() = runBlocking {
        val mock = MockStripe(seed = 9)
        val bridge = Billbridge.overMock(
            mock,
            BridgeOptions(idempotencySecret = IDEMPOTENCY_SECRET, webhookSecret = mock.webhookSecret(), metadata = rules()),
        )
        val shown = mutableListOf<Pair<String, Any?>>()
        val patient = zebedee()
        val payer = PayerRef.Patient("P-9001")
        shown += "CustomerRecord" to bridge.upsertCustomer(Party.Patient(patient))
        shown += "CustomerRecord" to bridge.upsertCustomer(Party.Organisation(trust))
        shown += "BalanceAdjustment" to bridge.adjustBalance(payer, gbp(-2500), BALANCE_REASON, "ADJ-9")
        shown += "InvoicePreview" to bridge.preview(draft("INV-S1"))
        val raised = bridge.raiseInvoice(draft("INV-S1"), RaiseMode.FINALIZE_AND_SEND)
        val links = listOfNotNull(raised.hostedInvoiceUrl, raised.invoicePdf)
        assertEquals(2, links.size, "a sent invoice has both links")
        assertTrue(raised.metadata.values.any { it.contains(FAMILY_NAME) }, "the name is sent as metadata")
        shown += "InvoiceRecord" to raised
        bridge.raiseInvoice(draft("INV-S2"), RaiseMode.FINALIZE)
        val paid = bridge.markPaidOutsideStripe("INV-S2", OutsidePayment(method = PaymentMethod.Cheque, reference = PAYMENT_REFERENCE))
        assertEquals(PAYMENT_REFERENCE, paid.paidOutside?.reference)
        shown += "InvoiceRecord paid outside" to paid
        bridge.upsertCustomer(Party.Patient(zebedee(email = "z.$EMAIL")))
        for (delivery in mock.takeWebhooks()) {
            shown += "WebhookDelivery" to delivery
            shown += "WebhookEvent" to constructWebhookEvent(delivery.body, delivery.signatureHeader, mock.webhookSecret(), now = delivery.signedAt)
            val outcome = bridge.handleWebhook(delivery.body, delivery.signatureHeader)
            shown += "WebhookOutcome" to outcome
        }
        val portal = bridge.portal(payer)
        shown += "Portal" to portal
        portal.invoices.forEach { shown += "PortalInvoice" to it }
        shown += "invoices" to bridge.invoices(InvoiceFilter())
        val payments = bridge.paymentsReceived(DayRange("2000-01-01", "2100-01-01"))
        assertTrue(payments.any { it.reference == PAYMENT_REFERENCE })
        shown += "payments" to payments
        val offline = OfflineBilling()
        shown += "offline InvoiceRecord" to offline.raiseInvoice(draft("INV-O1"), "2026-03-02", mapOf("patient_name" to GIVEN_NAME))
        shown += "offline InvoiceRecord" to offline.recordPayment(
            "INV-O1", ManualPaymentEntry(PaymentMethod.Cheque, gbp(1000), "2026-03-02", reference = PAYMENT_REFERENCE),
        )
        shown += "OfflineInvoice" to offline.invoice("INV-O1")
        for ((what, value) in shown) {
            val text = value.toString()
            assertClean(what, text)
            for (link in links) assertFalse(text.contains(link), "$what shows a pay link: $text")
        }
    }

    @Test
    fun `no input, panic or exit with calls in flight ever crashes the JVM`() {
        // A crash shows as an exit code other than 0 (128 + the signal) or a missing
        // closing line; a run that lost its calls at exit must still end with code 0.
        val java = File(System.getProperty("java.home"), "bin/java").path
        val classpath = System.getProperty("surefire.test.class.path") ?: System.getProperty("java.class.path")
        val library = System.getProperty("uniffi.component.billbridge.libraryOverride")
        val closing = Regex("refused (\\d+) of \\1, caught 2 panics, exiting with calls in flight")
        val runs = 30
        val failures = mutableListOf<String>()
        for (run in 0 until runs) {
            val exit = if (run % 2 == 0) "exitProcess" else "return"
            val command = mutableListOf(java, "-cp", classpath)
            if (library != null) command += "-Duniffi.component.billbridge.libraryOverride=$library"
            command += listOf(ExitProgram::class.java.name, exit)
            val process = ProcessBuilder(command).redirectErrorStream(true).apply { environment()["RUST_BACKTRACE"] = "0" }.start()
            val output = process.inputStream.bufferedReader().readText()
            val finished = process.waitFor(120, TimeUnit.SECONDS)
            val code = if (finished) process.exitValue() else -1
            assertClean("the output of a run", output)
            if (code != 0 || !closing.containsMatchIn(output)) {
                failures += "run $run ($exit): code $code\n${output.takeLast(1500)}"
            }
        }
        assertTrue(failures.isEmpty(), failures.take(3).joinToString("\n\n"))
    }
}

/** The program each child JVM of the exit test runs. */
object ExitProgram {
    @JvmStatic
    fun main(arguments: Array<String>) {
        val mock = MockStripe()
        val bridge = Billbridge.overMock(mock, BridgeOptions(idempotencySecret = "no-abort-test-secret-0123", webhookSecret = mock.webhookSecret()))
        val patient = Patient(id = "P-1", givenName = "Ada", familyName = "Lovelace")
        val bytes = byteArrayOf(0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0xff.toByte(), 0xfe.toByte(), 0x7d)
        val facade = Class.forName("billbridge.BillbridgeKt")
        // Clocks far outside any calendar go to a mock of their own: the mock takes them
        // (its clock saturates), and the calls in flight below need a sane one.
        val spare = MockStripe()
        val spareBridge = Billbridge.overMock(spare, BridgeOptions(idempotencySecret = "no-abort-test-secret-0123"))
        val mayBeAccepted = listOf<suspend () -> Unit>(
            { spare.advance(Long.MAX_VALUE) },
            { spare.advance(Long.MIN_VALUE) },
            { spare.setTime(Instant.MAX) },
            { spare.setTime(Instant.MIN) },
            { spareBridge.resyncChangedSince(Instant.MAX) },
        )
        val cases = listOf<suspend () -> Unit>(
            { bridge.preview(InvoiceDraft("INV-1", BillTo.Patient(patient), listOf(InvoiceLine("Visit", Money(Long.MAX_VALUE, "gbp"), UInt.MAX_VALUE)))) },
            { bridge.preview(InvoiceDraft("INV-1", BillTo.Patient(patient), listOf(InvoiceLine("Visit", Money(Long.MIN_VALUE, "gbp"))))) },
            { bridge.adjustBalance(PayerRef.Patient("P-1"), Money(Long.MIN_VALUE, "gbp"), "x", "A-1") },
            { bridge.raiseInvoice(InvoiceDraft("INV-2", BillTo.Patient(patient), listOf(InvoiceLine("Visit", Money(1, "gbp"), 0u))), RaiseMode.DRAFT) },
            { bridge.raiseInvoice(InvoiceDraft("INV-3", BillTo.Patient(patient), emptyList(), due = InvoiceDue.InDays(UInt.MAX_VALUE)), RaiseMode.DRAFT) },
            { money(Long.MAX_VALUE, "") },
            { parseMoney("9".repeat(400), "gbp") },
            { bridge.upsertCustomer(Party.Patient(Patient(id = "P-\uD800", givenName = "Ada", familyName = "Lovelace"))) },
            { bridge.upsertCustomer(Party.Patient(Patient(id = "", givenName = "", familyName = ""))) },
            { parseMoney("1\uDC00", "gbp") },
            { Billbridge("sk_test_\uD800", BridgeOptions(idempotencySecret = "no-abort-test-secret-0123")) },
            { Billbridge.overServer("sk_test_abc123", "not a url", BridgeOptions(idempotencySecret = "no-abort-test-secret-0123")) },
            { bridge.handleWebhook(bytes, "t=1,v1=00") },
            { bridge.handleWebhook(bytes, null) },
            { bridge.handleWebhook(ByteArray(0), "") },
            { constructWebhookEvent(bytes, null, mock.webhookSecret()) },
            { constructWebhookEvent(bytes, "t=1,v1=00", "whsec_\uDFFF") },
            { bridge.paymentsReceived(DayRange("2026-13-45", "")) },
            { bridge.invoice("INV-\uD800") },
            // Null from Java where Kotlin forbids it: refused before the FFI.
            { invoke(facade.getMethod("money", Long::class.javaPrimitiveType, String::class.java), 1L, null) },
            { invoke(facade.getMethod("parseMoney", String::class.java, String::class.java), null, "gbp") },
            { invoke(facade.getMethod("panicForTests", String::class.java), null) },
        )
        var refused = 0
        runBlocking {
            for ((index, case) in cases.withIndex()) {
                try {
                    case()
                    println("case $index was accepted")
                    exitProcess(4)
                } catch (error: Exception) {
                    refused += 1
                }
            }
            for (case in mayBeAccepted) {
                try {
                    case()
                } catch (error: Exception) {
                    // Refusing is as good as taking it.
                }
            }
        }
        var panics = 0
        try {
            panicForTests("forced blocking panic")
        } catch (error: BillbridgeException.Internal) {
            if (error.code == "panic") panics += 1
        }
        runBlocking {
            try {
                panicForTestsAsync("forced suspending panic")
            } catch (error: BillbridgeException.Internal) {
                if (error.code == "panic") panics += 1
            }
        }
        // Calls in flight on daemon threads when the JVM exits.
        val scope = CoroutineScope(Dispatchers.Default)
        repeat(40) { index ->
            scope.launch {
                bridge.raiseInvoice(
                    InvoiceDraft("INV-F$index", BillTo.Patient(Patient(id = "P-F$index", givenName = "A", familyName = "B")), listOf(InvoiceLine("Visit", Money(5000, "gbp")))),
                    RaiseMode.FINALIZE_AND_SEND,
                )
            }
        }
        println("refused $refused of ${cases.size}, caught $panics panics, exiting with calls in flight")
        System.out.flush()
        if (arguments.firstOrNull() == "exitProcess") exitProcess(0)
    }

    private fun invoke(method: java.lang.reflect.Method, vararg arguments: Any?) {
        try {
            method.invoke(null, *arguments)
        } catch (error: InvocationTargetException) {
            throw error.targetException as? Exception ?: RuntimeException(error.targetException)
        }
    }
}
