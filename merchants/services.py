import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidRequestError, StateConflictError
from core.ids import random_string
from merchants.models import (
    APIKey,
    APIKeyKind,
    AuditEvent,
    BankAccount,
    Invitation,
    Membership,
    Merchant,
    Role,
)

_KIND_PREFIX = {APIKeyKind.SECRET: "sk", APIKeyKind.PUBLISHABLE: "pk"}


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    api_key: APIKey
    raw_key: str  # shown to the merchant once, never stored


def _key_prefix(*, kind: str, livemode: bool) -> str:
    return f"{_KIND_PREFIX[APIKeyKind(kind)]}_{'live' if livemode else 'test'}_"


def api_key_create(
    *, merchant: Merchant, kind: str, livemode: bool, name: str = "", secret: str | None = None
) -> IssuedKey:
    """Issue a key. `secret` fixes the random part (used only for the demo merchant)."""
    prefix = _key_prefix(kind=kind, livemode=livemode)
    raw_key = prefix + (secret or random_string(32))
    api_key = APIKey.objects.create(
        merchant=merchant,
        livemode=livemode,
        kind=kind,
        key_hash=hash_key(raw_key),
        prefix=prefix,
        last4=raw_key[-4:],
        name=name,
    )
    return IssuedKey(api_key=api_key, raw_key=raw_key)


def api_key_roll(*, api_key: APIKey, expire_in: timedelta = timedelta(0)) -> IssuedKey:
    """Issue a replacement; the old key keeps working for `expire_in`, then stops."""
    with transaction.atomic():
        old = APIKey.objects.select_for_update().get(pk=api_key.pk)
        old.expires_at = timezone.now() + expire_in
        old.save(update_fields=["expires_at", "updated_at"])
        return api_key_create(
            merchant=old.merchant, kind=old.kind, livemode=old.livemode, name=old.name
        )


def api_key_revoke(*, api_key: APIKey) -> None:
    APIKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def merchant_create(
    *, name: str, country: str = "ID", default_currency: str = "idr", owner=None
) -> Merchant:
    with transaction.atomic():
        merchant = Merchant.objects.create(
            name=name, country=country.upper(), default_currency=default_currency.lower()
        )
        if owner is not None:
            Membership.objects.create(user=owner, merchant=merchant, role=Role.OWNER)
    return merchant


def merchant_signup(*, user, business_name: str) -> Merchant:
    """A new merchant from the dashboard's sign-up: in test mode, `user` its owner, with a
    test secret and publishable key (the keys page reveals each once: a fresh key replaces it)."""
    with transaction.atomic():
        merchant = merchant_create(name=business_name, owner=user)
        for kind in (APIKeyKind.SECRET, APIKeyKind.PUBLISHABLE):
            api_key_create(merchant=merchant, kind=kind, livemode=False, name="default")
    return merchant


def bank_account_set(
    *,
    merchant: Merchant,
    currency: str,
    bank_code: str,
    account_number: str,
    account_holder_name: str,
) -> BankAccount:
    """The merchant's payout destination for `currency`, created or replaced in place (one
    per currency). Payouts already made keep pointing at this row; its new details apply
    to payouts sent from now on."""
    with transaction.atomic():
        account, _ = BankAccount.objects.select_for_update().update_or_create(
            merchant=merchant,
            currency=currency.lower(),
            defaults={
                "bank_code": bank_code.lower(),
                "account_number": account_number,
                "account_holder_name": account_holder_name,
            },
        )
    return account


def merchant_settings_update(*, merchant: Merchant, **fields) -> dict:
    """Change the merchant's profile or payout schedule (name, country, default_currency,
    timezone, payout_delay_days, settlement_cutoff_hour, payouts_automatic). Returns
    {field: [before, after]} of what changed, for the audit log. A new cutoff or delay
    applies to days not settled yet."""
    allowed = {
        "name",
        "country",
        "default_currency",
        "timezone",
        "payout_delay_days",
        "settlement_cutoff_hour",
        "payouts_automatic",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise InvalidRequestError(f"Unknown settings: {', '.join(sorted(unknown))}")
    changed = {}
    with transaction.atomic():
        locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
        for name, value in fields.items():
            if getattr(locked, name) != value:
                changed[name] = [getattr(locked, name), value]
                setattr(locked, name, value)
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
    for name, (_before, after) in changed.items():
        setattr(merchant, name, after)
    return changed


def merchant_status_set(*, merchant: Merchant, status: str, operator) -> bool:
    """Activate or suspend a merchant (the operators' admin); recorded in the merchant's
    audit log as the operator's action. Returns whether the status changed."""
    with transaction.atomic():
        changed = (
            Merchant.objects.filter(pk=merchant.pk).exclude(status=status).update(status=status)
        )
        if changed:
            audit_event_record(
                merchant=merchant,
                user=operator,
                role="operator",
                action=f"merchant.{'activate' if status == 'active' else 'suspend'}",
                object_id=merchant.public_id,
                data={"status": status},
            )
    return bool(changed)


INVITATION_TTL = timedelta(days=7)


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # for the link in the email; never stored


def invitation_create(*, merchant: Merchant, email: str, role: str, invited_by) -> IssuedInvitation:
    """Invite `email` to the merchant's team with `role` for 7 days. An open invitation of
    the same address is revoked and replaced (so the latest link is the only one that
    works). A current member cannot be invited again."""
    email = email.strip().lower()
    if role not in Role.values:
        raise InvalidRequestError(f"Invalid role: {role}", param="role")
    if Membership.objects.filter(merchant=merchant, user__email__iexact=email).exists():
        raise StateConflictError(f"{email} is already a member.", code="already_member")
    token = random_string(40)
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.filter(
            merchant=merchant, email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invitation = Invitation.objects.create(
            merchant=merchant,
            email=email,
            role=role,
            token_hash=hash_key(token),
            invited_by=invited_by,
            expires_at=now + INVITATION_TTL,
        )
    return IssuedInvitation(invitation=invitation, token=token)


def invitation_find(*, token: str) -> Invitation | None:
    """The open (not accepted, revoked or expired) invitation of a link's token."""
    invitation = (
        Invitation.objects.select_related("merchant")
        .filter(token_hash=hash_key(token or ""))
        .first()
    )
    return invitation if invitation is not None and invitation.is_open else None


def invitation_accept(*, invitation: Invitation, user) -> Membership:
    """`user` joins the team with the invited role; the invitation is used up. Locks the
    invitation, so a link clicked twice at once makes one membership."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_open:
            raise StateConflictError(
                "This invitation has expired or was already used.", code="invitation_closed"
            )
        if (user.email or "").lower() != invitation.email:
            raise InvalidRequestError(
                f"This invitation is for {invitation.email}.", code="invitation_email"
            )
        membership, created = Membership.objects.get_or_create(
            user=user, merchant_id=invitation.merchant_id, defaults={"role": invitation.role}
        )
        if not created:
            raise StateConflictError("You are already a member.", code="already_member")
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at", "updated_at"])
    return membership


def invitation_revoke(*, invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def _other_owners(membership: Membership) -> bool:
    return (
        Membership.objects.filter(merchant_id=membership.merchant_id, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .exists()
    )


def membership_role_change(*, membership: Membership, role: str) -> Membership:
    """Give a member another role. A merchant always keeps at least one owner."""
    if role not in Role.values:
        raise InvalidRequestError(f"Invalid role: {role}", param="role")
    with transaction.atomic():
        list(Membership.objects.select_for_update().filter(merchant_id=membership.merchant_id))
        membership.refresh_from_db()
        if membership.role == Role.OWNER and role != Role.OWNER and not _other_owners(membership):
            raise StateConflictError("A merchant needs at least one owner.", code="last_owner")
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
    return membership


def membership_remove(*, membership: Membership) -> None:
    """Remove a member from the team. The last owner cannot be removed."""
    with transaction.atomic():
        list(Membership.objects.select_for_update().filter(merchant_id=membership.merchant_id))
        if membership.role == Role.OWNER and not _other_owners(membership):
            raise StateConflictError("A merchant needs at least one owner.", code="last_owner")
        membership.delete()


def audit_event_record(
    *,
    merchant: Merchant,
    user,
    action: str,
    livemode: bool = False,
    object_id: str = "",
    data: dict | None = None,
    role: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
) -> AuditEvent:
    """Append one dashboard action to the merchant's audit log (never updated or deleted)."""
    return AuditEvent.objects.create(
        merchant=merchant,
        livemode=livemode,
        actor_user_id=getattr(user, "pk", None),
        actor_email=getattr(user, "email", "") or "",
        actor_role=role,
        action=action,
        object_id=object_id,
        data=data or {},
        ip_address=ip_address or None,
        user_agent=(user_agent or "")[:300],
    )


DEMO_EMAIL = "demo@example.com"
DEMO_MERCHANT_NAME = "Demo Store"
DEMO_BANK_ACCOUNT = {"bank_code": "bca", "account_number": "1234567890"}


def _demo_secret(label: str, length: int = 32) -> str:
    # Stable for one deployment (derived from its SECRET_KEY), different across deployments,
    # so scripts can ask for the demo keys again without the keys ever being stored.
    digest = hmac.new(settings.SECRET_KEY.encode(), f"demo:{label}".encode(), hashlib.sha256)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest.digest())[:length]


@dataclass(frozen=True)
class DemoMerchant:
    merchant: Merchant
    secret_key: str
    publishable_key: str
    dashboard_email: str
    dashboard_password: str


def demo_merchant_ensure() -> DemoMerchant:
    """Create the demo merchant, its owner, its test keys and a sandbox bank account for its
    payouts when missing. Idempotent."""
    user_model = get_user_model()
    password = "demo-" + _demo_secret("password", 12)
    with transaction.atomic():
        user, created = user_model.objects.get_or_create(
            username=DEMO_EMAIL, defaults={"email": DEMO_EMAIL}
        )
        if created or not user.check_password(password):
            user.set_password(password)
            user.save()
        # allauth logs in by a verified EmailAddress row.
        from allauth.account.models import EmailAddress

        EmailAddress.objects.get_or_create(
            user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True}
        )
        membership = (
            Membership.objects.select_related("merchant")
            .filter(user=user, merchant__name=DEMO_MERCHANT_NAME)
            .first()
        )
        merchant = (
            membership.merchant
            if membership
            else merchant_create(name=DEMO_MERCHANT_NAME, owner=user)
        )
        keys = {}
        for kind in (APIKeyKind.SECRET, APIKeyKind.PUBLISHABLE):
            raw = _key_prefix(kind=kind, livemode=False) + _demo_secret(kind)
            if not APIKey.objects.filter(key_hash=hash_key(raw)).exists():
                api_key_create(
                    merchant=merchant, kind=kind, livemode=False, name="demo", secret=raw[8:]
                )
            keys[kind] = raw
        # A sandbox bank account that the sandbox bank pays (not one of its failing test
        # accounts), so the demo merchant's payouts work on a fresh install. Only when it has
        # none: an account set in the dashboard stays.
        if not BankAccount.objects.filter(
            merchant=merchant, currency=merchant.default_currency
        ).exists():
            bank_account_set(
                merchant=merchant,
                currency=merchant.default_currency,
                bank_code=DEMO_BANK_ACCOUNT["bank_code"],
                account_number=DEMO_BANK_ACCOUNT["account_number"],
                account_holder_name=DEMO_MERCHANT_NAME,
            )
    return DemoMerchant(
        merchant=merchant,
        secret_key=keys[APIKeyKind.SECRET],
        publishable_key=keys[APIKeyKind.PUBLISHABLE],
        dashboard_email=DEMO_EMAIL,
        dashboard_password=password,
    )
