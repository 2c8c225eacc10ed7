-- The SqliteStore schema at version 1 (user_version = 1), as the first release created
-- it: copied from migration 1, kept unchanged so that upgrade tests start from what
-- hosts' databases really hold.

CREATE TABLE customer_links (
    account            TEXT NOT NULL,
    party_kind         TEXT NOT NULL,
    host_party_id      TEXT NOT NULL,
    stripe_customer_id TEXT NOT NULL,
    metadata_sent      TEXT NOT NULL,
    PRIMARY KEY (account, party_kind, host_party_id),
    UNIQUE (account, stripe_customer_id)
) WITHOUT ROWID;

CREATE TABLE invoice_links (
    account           TEXT NOT NULL,
    host_invoice_id   TEXT NOT NULL,
    stripe_invoice_id TEXT NOT NULL,
    PRIMARY KEY (account, host_invoice_id),
    UNIQUE (account, stripe_invoice_id)
) WITHOUT ROWID;

CREATE TABLE default_payers (
    account              TEXT NOT NULL,
    patient_host_id      TEXT NOT NULL,
    organisation_host_id TEXT NOT NULL,
    PRIMARY KEY (account, patient_host_id)
) WITHOUT ROWID;

-- processed_at lets a later version prune events older than Stripe's retry window.
CREATE TABLE processed_events (
    account      TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (account, event_id)
) WITHOUT ROWID;

CREATE TABLE invoice_mirrors (
    account                TEXT NOT NULL,
    host_invoice_id        TEXT NOT NULL,
    stripe_invoice_id      TEXT NOT NULL,
    stripe_customer_id     TEXT NOT NULL,
    status                 TEXT NOT NULL,
    number                 TEXT,
    currency               TEXT NOT NULL,
    subtotal               INTEGER NOT NULL,
    total                  INTEGER NOT NULL,
    amount_due             INTEGER NOT NULL,
    amount_paid            INTEGER NOT NULL,
    amount_remaining       INTEGER NOT NULL,
    starting_balance       INTEGER NOT NULL,
    ending_balance         INTEGER,
    hosted_invoice_url     TEXT,
    invoice_pdf            TEXT,
    due_date               INTEGER,
    created                INTEGER NOT NULL,
    metadata               TEXT NOT NULL,
    paid_outside_method    TEXT,
    paid_outside_reference TEXT,
    stripe_updated_at      INTEGER NOT NULL,
    payer_kind             TEXT NOT NULL,
    payer_host_id          TEXT NOT NULL,
    patient_host_id        TEXT,
    PRIMARY KEY (account, host_invoice_id),
    UNIQUE (account, stripe_invoice_id)
) WITHOUT ROWID;
CREATE INDEX invoice_mirrors_by_created
    ON invoice_mirrors (account, created, host_invoice_id);
CREATE INDEX invoice_mirrors_by_status
    ON invoice_mirrors (account, status, created, host_invoice_id);
CREATE INDEX invoice_mirrors_by_payer
    ON invoice_mirrors (account, payer_host_id, created, host_invoice_id);
CREATE INDEX invoice_mirrors_by_update
    ON invoice_mirrors (account, stripe_updated_at);

CREATE TABLE raise_checkpoints (
    account           TEXT NOT NULL,
    host_invoice_id   TEXT NOT NULL,
    draft_revision    INTEGER NOT NULL,
    stripe_invoice_id TEXT,
    lines_added       TEXT NOT NULL,
    finalized         INTEGER NOT NULL,
    sent              INTEGER NOT NULL,
    PRIMARY KEY (account, host_invoice_id)
) WITHOUT ROWID;
