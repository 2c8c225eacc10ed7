// A practice day through BillbridgeKit on the in-process mock Stripe: customers, a credit,
// a preview, raise and send, webhooks, a card payment, cash at reception, a void, the
// portal view, offline billing, one error of every category, and panics the app
// survives. Runs with `swift test` on macOS after ./build-xcframework.sh; the same day
// runs on Linux through the Kotlin tests (bindings-swift/kotlin).
import BillbridgeKit
import Foundation
import XCTest

final class PracticeDayTests: XCTestCase {
    private let secret = "harbour-health-keys-2026"

    private func gbp(_ pence: Int64) -> Money {
        Money(amount: pence, currency: "gbp")
    }

    private let john = Patient(id: "P-1001", givenName: "John", familyName: "Deer", email: "john@example.com")
    private let ben = Patient(id: "P-1002", givenName: "Ben", familyName: "Carter", email: "ben@example.com")

    private func draft(_ id: String, _ patient: Patient, _ amounts: Int64...) -> InvoiceDraft {
        InvoiceDraft(
            hostInvoiceId: id,
            billTo: .patient(patient: patient),
            lines: amounts.enumerated().map { index, amount in
                InvoiceLine(description: "Session \(index + 1)", unitAmount: gbp(amount))
            },
            due: .inDays(days: 14)
        )
    }

    /// A mock and a bridge over it that accepts the mock's webhooks.
    private func practice() throws -> (MockStripe, Billbridge) {
        let mock = try MockStripe(seed: 7)
        let options = BridgeOptions(idempotencySecret: secret, webhookSecret: try mock.webhookSecret())
        return (mock, try Billbridge.overMock(mock: mock, options: options))
    }

    @discardableResult
    private func deliverWebhooks(_ mock: MockStripe, _ bridge: Billbridge) async throws -> [WebhookOutcome] {
        var outcomes: [WebhookOutcome] = []
        for delivery in try mock.takeWebhooks() {
            outcomes.append(try await bridge.handleWebhook(body: delivery.body, signatureHeader: delivery.signatureHeader))
        }
        return outcomes
    }

    /// Runs `body`, which must throw a `BillbridgeError` of `category`; returns it.
    private func expectError<T>(
        _ category: ErrorCategory,
        file: StaticString = #filePath,
        line: UInt = #line,
        _ body: () async throws -> T
    ) async -> BillbridgeError? {
        do {
            _ = try await body()
            XCTFail("expected a \(category) error", file: file, line: line)
            return nil
        } catch let error as BillbridgeError {
            XCTAssertEqual(error.category(), category, "\(error)", file: file, line: line)
            return error
        } catch {
            XCTFail("expected a BillbridgeError, got \(error)", file: file, line: line)
            return nil
        }
    }

    func testAPracticeDay() async throws {
        let (mock, bridge) = try practice()

        // Customers: created once, unchanged when nothing changed.
        let customer = try await bridge.upsertCustomer(party: .patient(patient: john))
        XCTAssertEqual(customer.outcome, .created)
        XCTAssertTrue(customer.stripeCustomerId.hasPrefix("cus_"))
        let again = try await bridge.upsertCustomer(party: .patient(patient: john))
        XCTAssertEqual(again.outcome, .unchanged)
        _ = try await bridge.upsertCustomer(party: .patient(patient: ben))
        let insurer = Organisation(id: "ORG-1", name: "Harbour Insurance")
        let organisation = try await bridge.upsertCustomer(party: .organisation(organisation: insurer))
        XCTAssertEqual(organisation.partyKind, .organisation)

        // A missed prepaid visit kept as credit, applied exactly once.
        let johnPays = PayerRef.patient(id: "P-1001")
        let credit = try await bridge.adjustBalance(
            payer: johnPays, amount: gbp(-5000), reason: "Missed visit kept as credit", adjustmentId: "APT-1")
        XCTAssertEqual(credit.endingBalance, gbp(-5000))
        _ = try await bridge.adjustBalance(
            payer: johnPays, amount: gbp(-5000), reason: "Missed visit kept as credit", adjustmentId: "APT-1")
        let balance = try await bridge.balance(payer: johnPays)
        XCTAssertEqual(balance, gbp(-5000))

        // The preview: 85.00 invoiced, the credit applied, 35.00 due; nothing created.
        let inv1 = draft("INV-1", john, 5000, 3500)
        let preview = try await bridge.preview(draft: inv1)
        XCTAssertEqual(preview.total, gbp(8500))
        XCTAssertEqual(preview.amountDue, gbp(3500))
        let none = try await bridge.invoice(hostInvoiceId: "INV-1")
        XCTAssertNil(none)

        // Raise and send: number, payment page and PDF come back.
        let raised = try await bridge.raiseInvoice(draft: inv1, mode: .finalizeAndSend)
        XCTAssertEqual(raised.status, .open)
        XCTAssertEqual(raised.amountDue, gbp(3500))
        XCTAssertEqual(raised.amountRemaining, gbp(3500))
        XCTAssertNotNil(raised.number)
        XCTAssertNotNil(raised.hostedInvoiceUrl)
        XCTAssertNotNil(raised.invoicePdf)
        XCTAssertEqual(try raised.amountDue.decimal(), "35.00")

        // Webhooks: verified and applied; a repeated delivery is a duplicate.
        let deliveries = try mock.takeWebhooks()
        var applied: WebhookDelivery?
        for delivery in deliveries {
            let outcome = try await bridge.handleWebhook(body: delivery.body, signatureHeader: delivery.signatureHeader)
            if outcome.disposition == .applied, applied == nil { applied = delivery }
        }
        let first = try XCTUnwrap(applied)
        let repeated = try await bridge.handleWebhook(body: first.body, signatureHeader: first.signatureHeader)
        XCTAssertEqual(repeated.disposition, .duplicate)
        let event = try constructWebhookEvent(
            body: first.body, signatureHeader: first.signatureHeader, secret: try mock.webhookSecret(), now: first.signedAt)
        XCTAssertEqual(event.id, first.eventId)

        // Ben pays by card on the payment page; the webhook reports it.
        let inv2 = try await bridge.raiseInvoice(draft: draft("INV-2", ben, 6000), mode: .finalizeAndSend)
        try await mock.payInvoice(stripeInvoiceId: inv2.stripeInvoiceId, paymentMethod: "pm_card_visa")
        let changes = try await deliverWebhooks(mock, bridge).flatMap { $0.changes }
        XCTAssertTrue(changes.contains(.invoicePaid(hostInvoiceId: "INV-2", amountPaid: gbp(6000))), "\(changes)")

        // John pays the rest in cash at reception.
        let paid = try await bridge.markPaidOutsideStripe(
            hostInvoiceId: "INV-1", payment: OutsidePayment(method: .cash, reference: "R-17"))
        XCTAssertEqual(paid.status, .paid)
        XCTAssertEqual(paid.paidOutside?.method, .cash)

        // A mistaken invoice is voided.
        _ = try await bridge.raiseInvoice(draft: draft("INV-3", ben, 1200), mode: .finalize)
        let voided = try await bridge.void(hostInvoiceId: "INV-3")
        XCTAssertEqual(voided.status, .void)

        // Ben's portal view: the invoice he still owes, with its pay link.
        _ = try await bridge.raiseInvoice(draft: draft("INV-4", ben, 2500), mode: .finalizeAndSend)
        try await deliverWebhooks(mock, bridge)
        let portal = try await bridge.portal(payer: .patient(id: "P-1002"))
        let owing = portal.invoices.filter { $0.invoice.status == .open }
        XCTAssertEqual(owing.map { $0.invoice.hostInvoiceId }, ["INV-4"])
        XCTAssertNotNil(owing.first?.payLink)
        XCTAssertEqual(portal.remaining, [gbp(2500)])
        let johnsPortal = try await bridge.portal(payer: johnPays)
        XCTAssertTrue(johnsPortal.remaining.allSatisfy { $0.amount == 0 })
    }

    func testOfflineBillingTakesPartialPaymentsByHand() async throws {
        let billing = try OfflineBilling(numberPrefix: "CLN")
        let raised = try await billing.raiseInvoice(draft: draft("OFF-1", john, 5000), on: "2026-11-21")
        XCTAssertEqual(raised.number, "CLN-0001")
        let part = try await billing.recordPayment(
            hostInvoiceId: "OFF-1", payment: ManualPaymentEntry(method: .cash, amount: gbp(2000), day: "2026-11-21"))
        XCTAssertEqual(part.amountRemaining, gbp(3000))
        let rest = try await billing.recordPayment(
            hostInvoiceId: "OFF-1", payment: ManualPaymentEntry(method: .cheque, amount: gbp(3000), day: "2026-11-22"))
        XCTAssertEqual(rest.status, .paid)
        let invoice = try await billing.invoice(hostInvoiceId: "OFF-1")
        XCTAssertEqual(invoice?.payments.map { $0.amount }, [gbp(2000), gbp(3000)])
    }

    func testEveryErrorCategoryIsItsOwnCase() async throws {
        let (mock, bridge) = try practice()

        let validation = await expectError(.validation) { try parseMoney(text: "12.345", currency: "gbp") }
        XCTAssertEqual(validation?.code(), "too_many_decimals")

        _ = try await bridge.upsertCustomer(party: .patient(patient: john))
        _ = try await bridge.raiseInvoice(draft: draft("INV-9", john, 4000), mode: .finalizeAndSend)
        _ = try await bridge.markPaidOutsideStripe(hostInvoiceId: "INV-9", payment: OutsidePayment(method: .cheque))
        let invalid = await expectError(.invalidState) { try await bridge.void(hostInvoiceId: "INV-9") }
        XCTAssertEqual(invalid?.code(), "illegal_transition")

        let open = try await bridge.raiseInvoice(draft: draft("INV-10", john, 4000), mode: .finalizeAndSend)
        let declined = await expectError(.stripeApi) {
            try await mock.payInvoice(stripeInvoiceId: open.stripeInvoiceId, paymentMethod: "pm_card_chargeDeclined")
        }
        if case let .StripeApi(_, _, stripe) = declined {
            XCTAssertEqual(stripe?.httpStatus, 402)
            XCTAssertEqual(stripe?.stripeCode, "card_declined")
        } else {
            XCTFail("expected StripeApi, got \(String(describing: declined))")
        }

        try mock.failNext(pathPrefix: "/v1/customers", fault: .connectionReset, times: 5)
        _ = await expectError(.transport) { try await bridge.upsertCustomer(party: .patient(patient: self.ben)) }
        try mock.clearFaults()

        _ = await expectError(.signature) {
            try await bridge.handleWebhook(body: Data("{}".utf8), signatureHeader: "t=1,v1=00")
        }

        let missing = FileManager.default.temporaryDirectory
            .appendingPathComponent("no/such/dir/billbridge.db").path
        _ = await expectError(.store) {
            try Billbridge.overMock(mock: mock, options: BridgeOptions(idempotencySecret: self.secret, storePath: missing))
        }
        _ = await expectError(.io) {
            try await bridge.exportInvoicesCsv(filter: InvoiceFilter(), columns: ["number"], path: missing)
        }

        let internal = await expectError(.internal) { try panicForTests(message: "forced for the test") }
        XCTAssertEqual(internal?.code(), "panic")
    }

    func testAPanicInAnAsyncCallIsThrownAndTheLibraryKeepsWorking() async throws {
        let error = await expectError(.internal) { try await panicForTestsAsync(message: "forced async") }
        XCTAssertEqual(error?.code(), "panic")
        let (_, bridge) = try practice()
        let record = try await bridge.upsertCustomer(party: .patient(patient: john))
        XCTAssertEqual(record.outcome, .created)
    }

    func testPrintingARecordOrTheOptionsShowsNoPersonalDataOrSecret() {
        let options = BridgeOptions(idempotencySecret: secret, webhookSecret: "whsec_abcdef")
        XCTAssertFalse(options.description.contains(secret))
        XCTAssertFalse(options.description.contains("whsec_abcdef"))
        XCTAssertFalse(john.description.contains("John"))
    }
}
