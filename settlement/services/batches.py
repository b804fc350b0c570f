"""Daily settlement (DESIGN.md §9): pending to available, one batch per merchant, mode,
currency and local day, then the automatic payout.

Set-based: a handful of INSERT ... SELECT / UPDATE ... FROM statements move every pending
balance transaction of every merchant whose day has closed, whatever their number; Python
loops only over the distinct (time zone, cutoff) settings and over the resulting batches.
They read the settlement queue (UnsettledItem, filled by the capture and refund postings),
not the balance transactions, and the balance transactions' UPDATE is a HOT update.

Idempotent and safe to run twice at once: one run at a time holds a transaction-level
advisory lock (PostgreSQL), batches are unique on (merchant, livemode, currency, day) and
inserted with ON CONFLICT DO NOTHING, and only the rows of this run's batches (run_id) are
moved, so a second run finds nothing left to settle.

A balance transaction committed just after its day was settled (a straggler) finds its
day's batch taken; it goes into the batch of the day being closed by the next run.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from core.ids import new_id
from merchants.models import BankAccount, Merchant
from settlement.calendar import add_business_days, closed_day, payout_delay_days
from settlement.models import SettlementBatch

# Any constant works: it names the lock that serializes settlement runs.
_SETTLEMENT_LOCK = 4_715_001


@dataclass
class SettlementResult:
    run_id: str
    batches: list[SettlementBatch] = field(default_factory=list)
    payouts: list = field(default_factory=list)
    skipped_payouts: dict[str, str] = field(default_factory=dict)  # batch id -> reason


def _public_id_sql(prefix: str) -> str:
    if connection.vendor == "postgresql":
        return f"'{prefix}_' || substr(md5(random()::text || clock_timestamp()::text), 1, 24)"
    return f"'{prefix}_' || lower(hex(randomblob(12)))"


# The queued balance transactions a group closes, each with its batch day: its own day, or
# the day being closed when its own day's batch was made by an earlier run (a straggler).
_QUEUED = """
    SELECT q.*,
           CASE WHEN old.id IS NOT NULL THEN %(closing)s ELSE q.settlement_date END
               AS batch_day
      FROM settlement_unsettled q
      JOIN merchants_merchant m ON m.id = q.merchant_id
      LEFT JOIN settlement_settlementbatch old
             ON old.merchant_id = q.merchant_id AND old.livemode = q.livemode
            AND old.currency = q.currency AND old.day = q.settlement_date
            AND old.run_id <> %(run)s
     WHERE q.settlement_date <= %(closing)s
       AND m.timezone = %(tz)s AND m.settlement_cutoff_hour = %(cutoff)s
       {merchant_filter}
"""
# ... joined to the batch this run made for it (equality on the batch's unique key). One
# whose batch exists already (made by an earlier run) finds none and waits for the next run.
_INTO_NEW_BATCH = """
      FROM ({queued}) s
      JOIN settlement_settlementbatch nb
        ON nb.merchant_id = s.merchant_id AND nb.livemode = s.livemode
       AND nb.currency = s.currency AND nb.day = s.batch_day
     WHERE nb.run_id = %(run)s
"""


def _statements(merchant_filter: str) -> list[str]:
    queued = _QUEUED.format(merchant_filter=merchant_filter)
    into_new_batch = _INTO_NEW_BATCH.format(queued=queued)
    return [
        # 1. The batches: totals per merchant, mode, currency and batch day.
        f"""
        INSERT INTO settlement_settlementbatch
            (public_id, merchant_id, livemode, currency, day, gross_amount, refund_amount,
             fee_amount, net_amount, count, run_id, created_at, updated_at)
        SELECT {_public_id_sql("stl")}, g.merchant_id, g.livemode, g.currency, g.batch_day,
               g.gross, g.refunds, g.fees, g.net, g.n, %(run)s, %(now)s, %(now)s
          FROM (SELECT s.merchant_id, s.livemode, s.currency, s.batch_day,
                       SUM(CASE WHEN s.type = 'charge' THEN s.amount ELSE 0 END) AS gross,
                       SUM(CASE WHEN s.type = 'refund' THEN -s.amount ELSE 0 END) AS refunds,
                       SUM(s.fee) AS fees, SUM(s.net) AS net, COUNT(*) AS n
                  FROM ({queued}) s
                 GROUP BY 1, 2, 3, 4) g
         WHERE true
        ON CONFLICT (merchant_id, livemode, currency, day) DO NOTHING
        """,  # noqa: S608 (only module constants are formatted in; values are parameters)
        # 2. Their lines.
        f"""
        INSERT INTO settlement_settlementline
            (batch_id, balance_transaction_id, type, amount, fee, net, source, reference,
             created_at)
        SELECT nb.id, s.balance_transaction_id, s.type, s.amount, s.fee, s.net, s.source,
               s.reference, %(now)s
        {into_new_batch}
        """,
        # 3. The methods of each batch's charges: its payout waits for the slowest.
        f"""
        SELECT DISTINCT nb.id, s.payment_method_type
        {into_new_batch}
           AND s.type = 'charge'
        """,
    ]


# The run's lines leave the queue; their balance transactions become available, in their
# batch. (Once per run, after every group: each row is written once.)
_THIS_RUNS_LINES = """
    SELECT l.balance_transaction_id FROM settlement_settlementline l
      JOIN settlement_settlementbatch b ON b.id = l.batch_id
     WHERE b.run_id = %(run)s
"""
_SETTLE = [
    f"""
    DELETE FROM settlement_unsettled
     WHERE balance_transaction_id IN ({_THIS_RUNS_LINES})
    """,  # noqa: S608
    # status and settlement_batch are not indexed: a HOT update (see the model).
    """
    UPDATE settlement_balancetransaction
       SET status = 'available', settlement_batch_id = l.batch_id
      FROM settlement_settlementline l
      JOIN settlement_settlementbatch b ON b.id = l.batch_id
     WHERE l.balance_transaction_id = settlement_balancetransaction.id
       AND b.run_id = %(run)s
    """,
]


_JOURNALS = [
    # The accounts the settlement journals touch, where missing.
    """
    INSERT INTO settlement_ledgeraccount (merchant_id, livemode, currency, kind)
    SELECT DISTINCT b.merchant_id, b.livemode, b.currency, k.kind
      FROM settlement_settlementbatch b
     CROSS JOIN (SELECT 'pending' AS kind UNION ALL SELECT 'available') k
     WHERE b.run_id = %(run)s
    ON CONFLICT DO NOTHING
    """,
    """
    INSERT INTO settlement_ledgeraccount (merchant_id, livemode, currency, kind)
    SELECT DISTINCT CAST(NULL AS bigint), b.livemode, b.currency, k.kind
      FROM settlement_settlementbatch b
     CROSS JOIN (SELECT 'bank' AS kind UNION ALL SELECT 'processor_receivable') k
     WHERE b.run_id = %(run)s
    ON CONFLICT DO NOTHING
    """,
    # One journal per batch.
    """
    INSERT INTO settlement_journal (merchant_id, livemode, kind, reference, description,
                                    created_at)
    SELECT b.merchant_id, b.livemode, 'settlement', b.public_id,
           'settlement ' || b.public_id, %(now)s
      FROM settlement_settlementbatch b
     WHERE b.run_id = %(run)s
    """,
]

# Its entries: pending +net / available -net, and the processor's funding of what it
# captured less refunds: bank +(gross-refunds) / processor_receivable -(gross-refunds).
_LEGS = [
    ("b.merchant_id", "pending", "b.net_amount"),
    ("b.merchant_id", "available", "-b.net_amount"),
    (None, "bank", "b.gross_amount - b.refund_amount"),
    (None, "processor_receivable", "b.refund_amount - b.gross_amount"),
]
_ENTRY = """
    INSERT INTO settlement_journalentry (journal_id, account_id, currency, amount)
    SELECT j.id, a.id, b.currency, {amount}
      FROM settlement_settlementbatch b
      JOIN settlement_journal j ON j.kind = 'settlement' AND j.reference = b.public_id
      JOIN settlement_ledgeraccount a
        ON a.livemode = b.livemode AND a.currency = b.currency AND a.kind = '{kind}'
       AND {owner}
     WHERE b.run_id = %(run)s AND {amount} <> 0
"""


def settlement_run(
    *,
    now: dt.datetime | None = None,
    day: dt.date | None = None,
    merchant: Merchant | None = None,
    schedule_payouts: bool = True,
) -> SettlementResult:
    """Settle every merchant (or one) whose settlement day has closed at `now`: each
    pending balance transaction of a closed day (up to `day` if given) goes into its
    batch, the batch's net moves from pending to available in one balanced journal, and an
    automatic payout of the available balance is scheduled for T+N business days.

    Guarantees: one batch per merchant, mode, currency and day, however many runs (even
    concurrent ones); a day that has not closed yet is never settled."""
    now = now or timezone.now()
    run_id = new_id("run", 20)
    result = SettlementResult(run_id=run_id)
    merchants = Merchant.objects.all()
    if merchant is not None:
        merchants = merchants.filter(pk=merchant.pk)
    settings_groups = merchants.values_list("timezone", "settlement_cutoff_hour").distinct()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SETTLEMENT_LOCK])
        methods: dict[int, set[str]] = {}
        # As the ORM writes a datetime (SQLite: naive UTC text, which pages compare with)
        at = connection.ops.adapt_datetimefield_value(now)
        with connection.cursor() as cursor:
            for tz, cutoff in settings_groups:
                closing = closed_day(now, tz=tz, cutoff_hour=cutoff)
                if day is not None:
                    if day > closing:
                        continue  # that day has not closed for these merchants yet
                    closing = day
                params = {"run": run_id, "now": at, "closing": closing, "tz": tz}
                params["cutoff"] = cutoff
                merchant_filter = ""
                if merchant is not None:
                    merchant_filter = "AND m.id = %(merchant)s"
                    params["merchant"] = merchant.pk
                batches_sql, lines_sql, methods_sql = _statements(merchant_filter)
                cursor.execute(batches_sql, params)
                if connection.vendor == "postgresql":
                    # Fresh statistics: the joins below then see this run's batches (a
                    # stale "no rows" estimate picks a nested loop over a million lines).
                    cursor.execute("ANALYZE settlement_settlementbatch")
                cursor.execute(lines_sql, params)
                cursor.execute(methods_sql, params)
                for batch_id, method in cursor.fetchall():
                    methods.setdefault(batch_id, set()).add(method or "card")
            params = {"run": run_id, "now": at}
            for sql in _SETTLE:
                cursor.execute(sql, params)
            for sql in _JOURNALS:
                cursor.execute(sql, params)
            for owner, kind, amount in _LEGS:
                owner_sql = "a.merchant_id = b.merchant_id" if owner else "a.merchant_id IS NULL"
                cursor.execute(_ENTRY.format(amount=amount, kind=kind, owner=owner_sql), params)
        result.batches = list(
            SettlementBatch.objects.filter(run_id=run_id).select_related("merchant")
        )
        if schedule_payouts and result.batches:
            _schedule_payouts(result, now=now, methods=methods)
    return result


def payout_arrival_date(
    *, merchant: Merchant, day: dt.date, methods: set[str] = frozenset()
) -> dt.date:
    """T+N business days after the settlement day (weekends and the merchant country's
    public holidays skipped). N is the merchant's payout_delay_days, or less when every
    charge of the batch was made with a faster method (virtual accounts: T+1)."""
    days = payout_delay_days(set(methods), merchant_delay=merchant.payout_delay_days)
    return add_business_days(day, days, country=merchant.country)


def _schedule_payouts(
    result: SettlementResult, *, now: dt.datetime, methods: dict[int, set[str]]
) -> None:
    """One automatic payout per merchant, mode and currency settled by this run, of the
    whole available balance (which also holds returned failed payouts, and may be
    negative after refunds), attached to the run's latest batch of that currency."""
    from settlement.services.payouts import payouts_create_automatic

    latest: dict[tuple, SettlementBatch] = {}
    for batch in sorted(result.batches, key=lambda b: b.day):
        latest[(batch.merchant_id, batch.livemode, batch.currency)] = batch
    automatic = [b for b in latest.values() if b.merchant.payouts_automatic]
    if not automatic:
        return
    destinations = {
        (a.merchant_id, a.currency): a
        for a in BankAccount.objects.filter(merchant_id__in={b.merchant_id for b in automatic})
    }
    items = []
    for batch in automatic:
        destination = destinations.get((batch.merchant_id, batch.currency))
        if destination is None:
            result.skipped_payouts[batch.public_id] = "no bank account"
            continue
        local_today = timezone.localdate(now, timezone=_zone(batch.merchant.timezone))
        arrival = payout_arrival_date(
            merchant=batch.merchant, day=batch.day, methods=methods.get(batch.pk, set())
        )
        arrival = max(arrival, local_today)
        items.append(
            {
                "merchant": batch.merchant,
                "livemode": batch.livemode,
                "currency": batch.currency,
                "destination": destination,
                "settlement_batch": batch,
                "arrival_date": arrival,
                "description": f"Settlement {batch.day.isoformat()}",
            }
        )
    result.payouts = payouts_create_automatic(items=items)
    paid = {p.settlement_batch_id for p in result.payouts}
    for item in items:
        if item["settlement_batch"].pk not in paid:
            result.skipped_payouts[item["settlement_batch"].public_id] = "nothing available"


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
