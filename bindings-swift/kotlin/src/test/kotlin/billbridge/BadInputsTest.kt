// The table of bad inputs (tests/data/bad_inputs.json) through the generated Kotlin
// package and the real library: each row the binding exposes must throw the
// BillbridgeException case of its category with the core's code, never abort the JVM,
// and leave nothing half-sent — the mock's request count is unchanged (or the mock only
// refused), the loopback stub saw exactly the expected attempts under one idempotency
// key, and the bridge recorded nothing. The Rust, Python and Node tests read the same
// table; the kinds this binding does not expose (money arithmetic, draft totals,
// metadata policies) are listed there without "kotlin".
package billbridge

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import java.io.File
import java.net.HttpURLConnection
import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket
import java.net.URI
import java.time.Instant
import java.util.Collections
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec

class BadInputsTest {
    private val secret = "kotlin-bad-input-idempotency-secret"
    private val now = 1_790_000_000L
    private val endpointSecret = "whsec_bad_input_endpoint"

    private val table = Json.parse(locate("tests/data/bad_inputs.json").readText()) as Map<*, *>
    private val runsHere = (table["kinds"] as Map<*, *>)
        .filter { (_, about) -> "kotlin" in ((about as Map<*, *>)["bindings"] as List<*>) }
        .keys.map { it as String }.toSet()

    private val john = Patient(id = "P-1001", givenName = "John", familyName = "Deer")

    private fun line(spec: Map<*, *>, index: Int) = InvoiceLine(
        description = "Session ${index + 1}",
        unitAmount = money((spec["unit_amount"] as Number).toLong(), spec["currency"] as String? ?: "gbp"),
        quantity = ((spec["quantity"] as Number?)?.toLong() ?: 1L).toUInt(),
        metadata = (spec["metadata"] as Map<*, *>? ?: emptyMap<String, String>())
            .map { (key, value) -> key as String to value as String }.toMap(),
    )

    private fun draft(lines: List<*>) = InvoiceDraft(
        hostInvoiceId = "INV-1",
        billTo = BillTo.Patient(john),
        lines = lines.mapIndexed { index, spec -> line(spec as Map<*, *>, index) },
    )

    private suspend fun practice(): Pair<MockStripe, Billbridge> {
        val mock = MockStripe(seed = 7)
        val bridge = Billbridge.overMock(mock, BridgeOptions(idempotencySecret = secret, webhookSecret = mock.webhookSecret()))
        bridge.upsertCustomer(Party.Patient(john))
        return mock to bridge
    }

    // ------------------------------------------------------------ over the mock

    private suspend fun raiseLines(given: Map<*, *>) {
        val (mock, bridge) = practice()
        val sent = mock.requestCount()
        try {
            bridge.raiseInvoice(draft(given["lines"] as List<*>), RaiseMode.DRAFT)
        } finally {
            assertEquals(sent, mock.requestCount(), "a refused raise sent a request")
            assertNull(bridge.invoice("INV-1"))
        }
    }

    private suspend fun act(bridge: Billbridge, action: String) {
        when (action) {
            "finalize" -> bridge.finalize("INV-1")
            "send" -> bridge.send("INV-1")
            "void" -> bridge.void("INV-1")
            "mark_uncollectible" -> bridge.markUncollectible("INV-1")
            "delete_draft" -> bridge.deleteDraft("INV-1")
            "mark_paid_outside_stripe" -> bridge.markPaidOutsideStripe("INV-1", OutsidePayment(method = PaymentMethod.Cash))
            else -> error("unknown action $action")
        }
    }

    private suspend fun transition(given: Map<*, *>) {
        val (mock, bridge) = practice()
        bridge.raiseInvoice(draft(listOf(mapOf("unit_amount" to 5000))), RaiseMode.DRAFT)
        for (step in given["steps"] as List<*>) act(bridge, step as String)
        val before = bridge.invoice("INV-1")?.status
        val sent = mock.requestCount()
        try {
            act(bridge, given["action"] as String)
        } finally {
            assertEquals(sent, mock.requestCount(), "an illegal transition sent a request")
            assertEquals(before, bridge.invoice("INV-1")?.status)
        }
    }

    /** Sends `key` straight to the mock's HTTP front, as any HTTP client would. */
    private fun rawCreateCustomer(url: String, key: String): Int {
        val connection = URI("$url/v1/customers").toURL().openConnection() as HttpURLConnection
        try {
            connection.requestMethod = "POST"
            connection.doOutput = true
            connection.setRequestProperty("Authorization", "Bearer $key")
            connection.setRequestProperty("Content-Type", "application/x-www-form-urlencoded")
            connection.outputStream.use { it.write("name=Ada".toByteArray()) }
            return connection.responseCode
        } finally {
            connection.disconnect()
        }
    }

    private suspend fun apiKey(row: Map<*, *>, given: Map<*, *>) {
        val mock = MockStripe(seed = 7)
        val server = mock.serve()
        try {
            val before = mock.requestCount()
            try {
                val bridge = Billbridge.overServer(given["key"] as String, server.url(), BridgeOptions(idempotencySecret = secret))
                bridge.upsertCustomer(Party.Patient(john))
            } catch (error: BillbridgeException.Validation) {
                assertEquals(before, mock.requestCount(), "a key refused by the client reached the mock")
                throw error
            } finally {
                (row["mock_http_status"] as Number?)?.let { status ->
                    assertEquals(status.toInt(), rawCreateCustomer(server.url(), given["key"] as String))
                }
            }
        } finally {
            server.shutdown()
        }
    }

    // ------------------------------------------------------------ a loopback stub

    /**
     * A loopback HTTP server answering every request with the same bytes, then closing
     * the connection: bodies, content types and framings Stripe never sends.
     */
    private class Stub(private val response: ByteArray) : AutoCloseable {
        val keys: MutableList<String?> = Collections.synchronizedList(mutableListOf())
        private val listener = ServerSocket(0, 16, InetAddress.getLoopbackAddress())
        @Volatile private var closing = false
        val url = "http://127.0.0.1:${listener.localPort}"
        private val thread = Thread {
            while (true) {
                val socket = try { listener.accept() } catch (_: Exception) { return@Thread }
                if (closing) { socket.close(); return@Thread }
                socket.use { answer(it) }
            }
        }.apply { isDaemon = true; start() }

        private fun answer(socket: Socket) {
            // A safety net only: the client always sends a whole request.
            socket.soTimeout = 10_000
            val input = socket.getInputStream()
            val request = java.io.ByteArrayOutputStream()
            var headEnd = -1
            while (headEnd < 0) {
                val byte = input.read()
                if (byte < 0) return
                request.write(byte)
                val bytes = request.toByteArray()
                if (bytes.size >= 4 && String(bytes, bytes.size - 4, 4, Charsets.ISO_8859_1) == "\r\n\r\n") headEnd = bytes.size
            }
            val headers = String(request.toByteArray(), Charsets.ISO_8859_1).split("\r\n").drop(1)
                .filter { ':' in it }
                .associate { it.substringBefore(':').trim().lowercase() to it.substringAfter(':').trim() }
            val length = headers["content-length"]?.toInt() ?: 0
            input.readNBytes(length)
            keys += headers["idempotency-key"]
            socket.getOutputStream().apply { write(response); flush() }
        }

        override fun close() {
            // Closing does not always wake a blocked accept(): a last connection does.
            closing = true
            runCatching { Socket(InetAddress.getLoopbackAddress(), listener.localPort).close() }
            thread.join()
            listener.close()
        }
    }

    private fun responseBytes(given: Map<*, *>): ByteArray {
        val status = (given["status"] as Number).toInt()
        val body = (given["body"] as String).toByteArray()
        val length = (given["declared_length"] as Number?)?.toInt() ?: body.size
        val reason = mapOf(200 to "OK", 400 to "Bad Request", 403 to "Forbidden", 502 to "Bad Gateway")[status] ?: "Status"
        val head = "HTTP/1.1 $status $reason\r\nContent-Type: ${given["content_type"]}\r\n" +
            "Content-Length: $length\r\nRequest-Id: req_stub\r\nConnection: close\r\n\r\n"
        return head.toByteArray() + body
    }

    private suspend fun apiResponse(row: Map<*, *>, given: Map<*, *>) {
        Stub(responseBytes(given)).use { stub ->
            val bridge = Billbridge.overServer("sk_test_51BadInputStub", stub.url, BridgeOptions(idempotencySecret = secret))
            try {
                bridge.upsertCustomer(Party.Patient(john))
            } catch (error: BillbridgeException) {
                assertEquals((row["http_status"] as Number?)?.toInt(), stripeDetails(error)?.httpStatus?.toInt(), "status in the details")
                throw error
            } finally {
                assertEquals((row["attempts"] as Number).toInt(), stub.keys.size, "requests the stub saw: ${stub.keys}")
                assertNotNull(stub.keys[0], "a POST without an idempotency key")
                assertTrue(stub.keys.all { it == stub.keys[0] }, "the retries changed the idempotency key")
                assertNull(bridge.customerId(PayerRef.Patient("P-1001")), "the host recorded a customer")
            }
        }
    }

    private fun stripeDetails(error: BillbridgeException): StripeErrorDetails? = when (error) {
        is BillbridgeException.Validation -> error.stripe
        is BillbridgeException.InvalidState -> error.stripe
        is BillbridgeException.StripeApi -> error.stripe
        is BillbridgeException.Transport -> error.stripe
        is BillbridgeException.Signature -> error.stripe
        is BillbridgeException.Store -> error.stripe
        is BillbridgeException.Internal -> error.stripe
        is BillbridgeException.Io -> error.stripe
    }

    // ------------------------------------------------------------ webhooks

    /** The `Stripe-Signature` header Stripe would send (HMAC-SHA256 of `t.body`). */
    private fun sign(body: ByteArray, secret: String, timestamp: Long): String {
        val mac = Mac.getInstance("HmacSHA256").apply { init(SecretKeySpec(secret.toByteArray(), "HmacSHA256")) }
        val digest = mac.doFinal("$timestamp.".toByteArray() + body)
        return "t=$timestamp,v1=" + digest.joinToString("") { "%02x".format(it) }
    }

    private fun webhookHeader(given: Map<*, *>, body: ByteArray, endpoint: String, at: Long): String? {
        val signing = given["sign"] as Map<*, *>? ?: return given["header"] as String?
        return sign(body, signing["secret"] as String? ?: endpoint, at - (signing["age"] as Number).toLong())
    }

    private suspend fun webhook(given: Map<*, *>) {
        val body = (given["body"] as String).toByteArray()
        val pure = runCatching {
            constructWebhookEvent(body, webhookHeader(given, body, endpointSecret, now), endpointSecret, now = Instant.ofEpochSecond(now))
        }.exceptionOrNull()
        assertTrue(pure is BillbridgeException, "constructWebhookEvent accepted the delivery: $pure")
        val (mock, bridge) = practice()
        val sent = mock.requestCount()
        val header = webhookHeader(given, body, mock.webhookSecret(), Instant.now().epochSecond)
        try {
            bridge.handleWebhook(body, header)
        } catch (error: BillbridgeException) {
            assertEquals((pure as BillbridgeException).code(), error.code(), "constructWebhookEvent and handleWebhook disagree")
            throw error
        } finally {
            assertEquals(sent, mock.requestCount(), "a refused delivery sent a request")
        }
    }

    private suspend fun run(row: Map<*, *>, given: Map<*, *>) {
        when (row["kind"]) {
            "money_parse" -> parseMoney(given["text"] as String, given["currency"] as String)
            "currency" -> money(0, given["code"] as String)
            "raise_lines" -> raiseLines(given)
            "transition" -> transition(given)
            "api_key" -> apiKey(row, given)
            "api_response" -> apiResponse(row, given)
            "webhook" -> webhook(given)
            else -> error("a kind this test does not run: ${row["kind"]}")
        }
    }

    @Test
    fun `this binding runs exactly the kinds the table gives it`() {
        assertEquals(setOf("money_parse", "currency", "raise_lines", "transition", "api_key", "api_response", "webhook"), runsHere)
    }

    @TestFactory
    fun `every bad input gives its typed error and sends nothing`(): List<DynamicTest> =
        (table["rows"] as List<*>).map { it as Map<*, *> }.filter { it["kind"] in runsHere }.map { row ->
            DynamicTest.dynamicTest("${row["name"]} gives ${row["code"]}") {
                val error = runCatching { runBlocking { run(row, expand(row["input"]) as Map<*, *>) } }.exceptionOrNull()
                assertTrue(error is BillbridgeException, "no BillbridgeException: $error")
                error as BillbridgeException
                assertEquals(row["code"], error.code(), error.message)
                assertEquals(ErrorCategory.valueOf((row["category"] as String).uppercase()), error.category(), error.message)
                assertEquals(error.javaClass.simpleName.uppercase(), error.category().name.replace("_", ""))
                assertTrue(error.toString().isNotEmpty())
            }
        }

    companion object {
        /** A repository file, found from the Maven project folder upwards. */
        fun locate(path: String): File =
            generateSequence(File("").absoluteFile) { it.parentFile }
                .map { File(it, path) }
                .firstOrNull { it.isFile } ?: error("$path not found above ${File("").absolutePath}")

        /** The table's generated values: `{"repeat"…}` strings and `{"entries"…}` maps. */
        fun expand(value: Any?): Any? = when (value) {
            is Map<*, *> -> when {
                "repeat" in value -> (value["prefix"] as String? ?: "") +
                    (value["repeat"] as String).repeat((value["times"] as Number).toInt()) + (value["suffix"] as String? ?: "")
                "entries" in value -> (0 until (value["entries"] as Number).toInt()).associate { "${value["key"]}$it" to value["value"] }
                else -> value.mapValues { (_, item) -> expand(item) }
            }
            is List<*> -> value.map { expand(it) }
            else -> value
        }
    }
}

/** A small JSON reader for the table (no JSON library on the test classpath). */
private object Json {
    fun parse(text: String): Any? {
        val reader = Reader(text)
        val value = reader.value()
        reader.space()
        check(reader.at == text.length) { "trailing text at ${reader.at}" }
        return value
    }

    private class Reader(val text: String) {
        var at = 0

        fun space() { while (at < text.length && text[at].isWhitespace()) at++ }

        fun value(): Any? {
            space()
            return when (val next = text[at]) {
                '{' -> obj()
                '[' -> array()
                '"' -> string()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> if (next == '-' || next.isDigit()) number() else error("unexpected '$next' at $at")
            }
        }

        private fun literal(word: String, value: Any?): Any? {
            check(text.startsWith(word, at)) { "expected $word at $at" }
            at += word.length
            return value
        }

        private fun number(): Number {
            val start = at
            while (at < text.length && (text[at].isDigit() || text[at] in "+-.eE")) at++
            val literal = text.substring(start, at)
            return literal.toLongOrNull() ?: literal.toDouble()
        }

        private fun string(): String {
            val out = StringBuilder()
            at++
            while (true) {
                when (val char = text[at++]) {
                    '"' -> return out.toString()
                    '\\' -> when (val escaped = text[at++]) {
                        'n' -> out.append('\n')
                        't' -> out.append('\t')
                        'r' -> out.append('\r')
                        'b' -> out.append('\b')
                        'f' -> out.append('\u000c')
                        'u' -> { out.append(text.substring(at, at + 4).toInt(16).toChar()); at += 4 }
                        else -> out.append(escaped)
                    }
                    else -> out.append(char)
                }
            }
        }

        private fun array(): List<Any?> {
            val items = mutableListOf<Any?>()
            at++
            space()
            if (text[at] == ']') { at++; return items }
            while (true) {
                items += value()
                space()
                if (text[at++] == ']') return items
            }
        }

        private fun obj(): Map<String, Any?> {
            val entries = linkedMapOf<String, Any?>()
            at++
            space()
            if (text[at] == '}') { at++; return entries }
            while (true) {
                space()
                val key = string()
                space()
                check(text[at++] == ':') { "expected ':' at ${at - 1}" }
                entries[key] = value()
                space()
                if (text[at++] == '}') return entries
            }
        }
    }
}
