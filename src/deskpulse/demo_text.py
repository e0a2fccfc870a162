"""What the demo's customers and agents write: topics, subjects, phrases and names, as word lists.

Kept apart from `deskpulse.demo`, which turns them into mail: this module is data, that one is behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

SPIKE_CATEGORY = "password_reset"
SPIKE_FACTOR = 4.0  # password-reset volume in the spike week, relative to a normal week


def words(text: str) -> tuple[str, ...]:
    """A word list written as one string: easy to extend, and it stays compact after formatting."""
    return tuple(text.split())


FREE_DOMAINS = words("gmail.com outlook.com yahoo.com icloud.com proton.me example.org example.com")
COMPANY_DOMAINS = words(
    """northwind.example globex.example initech.example umbrella-corp.example hooli.example contoso.example
    stark-industries.example wayne-enterprises.example tyrell.example soylent.example vandelay.example
    cyberdyne.example oceanic-air.example dunder-mifflin.example"""
)
DE_DOMAINS = words("gmx.de web.de t-online.de gmail.com mueller-bau.example stadtwerke-nord.example")
FR_DOMAINS = words("orange.fr free.fr gmail.com laposte.net boulangerie-paris.example")
FIRST_INTL = words(
    """Sarah Michael Priya Daniel Laura Tom Grace Mohammed Aisha Lucas Mia Noah Hannah Oliver Sofia Ethan Ryan
    Nina Omar Yuki Wei Carlos Isabel Marco Elena Kenji Fatima Jack Ella Sam Leah Victor Ingrid Tariq Rosa
    Pavel Zoë Søren José Björn Inés Mónica Åsa Łukasz"""
)
LAST_INTL = words(
    """Smith Johnson Brown Taylor Wilson Davies Evans Thomas Roberts Walker Wright Khan Nguyen Garcia Rossi
    Novak Kowalski Jensen O'Brien Murphy Clarke Hughes Kim Tanaka Haddad Costa Ivanova Lindqvist Peña
    Ødegaard Núñez Dvořák"""
)
FIRST_DE = words("Jürgen Katrin Stefan Sabine Jörg Anja Matthias Ute Lars Birgit Tobias")
LAST_DE = words("Müller Schröder Weiß Becker Hoffmann Schäfer Koch Krüger Fröhlich Braun")
FIRST_FR = words("François Hélène Noémie Gisèle Amélie Jérôme Camille Théo")
LAST_FR = words("Lefèvre Dubois Moreau Girard Lemaître Bérenger")

# ----------------------------------------------------------------------------------------------------
# What they write. Slots in braces are filled per ticket (see _Generator._slots).


@dataclass(frozen=True)
class Topic:
    category: str
    weight: float
    subjects: tuple[str, ...]
    subjects_de: tuple[str, ...]
    openings: tuple[str, ...]
    openings_de: tuple[str, ...]
    answers: tuple[str, ...]  # an agent's first reply
    details: tuple[str, ...]  # a customer's second message: more information, or it still fails


TOPICS: dict[str, Topic] = {
    "refund": Topic(
        "Billing",
        0.09,
        ("Refund request for order {order}", "Requesting a refund", "Refund for my {plan} subscription"),
        ("Rückerstattung für Bestellung {order}",),
        (
            "I'd like to request a refund for order {order}. The {product} doesn't do what the product page "
            "promised and I haven't used it since.",
            "I cancelled my {plan} plan on {weekday} but was still charged {amount}. Can you refund it please?",
        ),
        (
            "ich möchte eine Rückerstattung für Bestellung {order}. Der Artikel ({product}) entspricht "
            "leider "
            "nicht der Beschreibung.",
        ),
        (
            "I've issued a refund of {amount} for order {order}. Depending on your bank it shows up within "
            "5–10 "
            "business days.",
            "I'm sorry the {product} didn't work out. The refund of {amount} is on its way; you'll get a "
            "confirmation e-mail from our payment provider shortly.",
        ),
        (
            "The refund still hasn't shown up on my card statement.",
            "It was paid with PayPal, if that matters.",
        ),
    ),
    "invoice": Topic(
        "Billing",
        0.09,
        (
            "Question about invoice {invoice}",
            "Invoice {invoice}: wrong VAT number",
            "Need a copy of my invoice",
        ),
        ("Frage zur Rechnung {invoice}",),
        (
            "Our accounts department needs invoice {invoice} reissued with our company name and VAT ID on it.",
            "Could you send me the invoice for {month}? I can't find it in the billing section.",
        ),
        ("auf der Rechnung {invoice} fehlt unsere USt-IdNr. Können Sie die Rechnung bitte neu ausstellen?",),
        (
            "I've attached a corrected copy of invoice {invoice}. You can also download every invoice under "
            "Settings → Billing → Invoices.",
            "Here's the invoice for {month}. I've also switched on monthly invoice e-mails for your account.",
        ),
        ("The VAT ID is DE{digits}.", "Could you also add our PO number {po} to it?"),
    ),
    "double_charge": Topic(
        "Billing",
        0.07,
        ("Charged twice for {month}", "Double charge on my card", "Duplicate payment for order {order}"),
        ("Doppelte Abbuchung im {month}",),
        (
            "I was charged {amount} twice this month. From my bank statement both payments went through on {weekday}.",
            "Your system took two payments of {amount} for the same order ({order}).",
        ),
        ("mir wurden {amount} doppelt abgebucht. Bitte erstatten Sie eine Zahlung zurück.",),
        (
            "You're right, the payment was captured twice. I've refunded the duplicate {amount}; it should "
            "be "
            "back on your card in a few days.",
            "Thanks for spotting that. The second charge was a pending authorisation that has now been voided.",
        ),
        (
            "The second charge is still there today.",
            "I've attached my bank statement (card ending {digits4}).",
        ),
    ),
    "password_reset": Topic(
        "Account/Login",
        0.12,
        (
            "Password reset not working",
            "Can't reset my password",
            "Password reset email never arrived",
            "Reset password link expired",
            "Forgot password - no email",
        ),
        ("Passwort zurücksetzen funktioniert nicht",),
        (
            "I clicked 'Forgot password' three times but the reset e-mail never arrives. It's not in spam either.",
            "The password reset link says it has expired, even though I clicked it right away.",
            "When I set a new password the page just reloads and my old password is still the only one that "
            "works... except it doesn't.",
        ),
        ("ich bekomme keine E-Mail zum Zurücksetzen meines Passworts, auch nicht im Spam-Ordner.",),
        (
            "I've sent you a fresh reset link manually; it's valid for 24 hours. If it doesn't arrive, "
            "please "
            "add no-reply@acme.test to your contacts.",
            "Our e-mail provider had a delay with reset e-mails this week, sorry about that. I've triggered "
            "a "
            "new reset link for you just now.",
        ),
        ("Still nothing in my inbox.", "The new link gives me error {error} as well."),
    ),
    "login_error": Topic(
        "Account/Login",
        0.09,
        ("Can't log in", "Login error: {error}", "Locked out of my account"),
        ("Login nicht möglich",),
        (
            "Since this morning I get '{error}' when I try to log in on {browser}.",
            "I'm locked out of my account after a few attempts. It says to try again later but it's been hours.",
        ),
        ("seit heute kann ich mich nicht mehr einloggen, es erscheint '{error}'.",),
        (
            "I've unlocked your account. Please clear your browser cache for acme.test and try again.",
            "That error appears when an old session cookie is stuck. Logging out everywhere from the app "
            "usually "
            "fixes it; I've reset your sessions on our side too.",
        ),
        ("Same error on {browser} and on my phone.", "I tried in a private window, no luck."),
    ),
    "two_factor": Topic(
        "Account/Login",
        0.06,
        (
            "2FA code not accepted",
            "Lost my phone - two-factor authentication",
            "Two-factor codes not working",
        ),
        ("Zwei-Faktor-Code wird nicht akzeptiert",),
        (
            "My authenticator codes are rejected every time. The clock on my {device} is correct.",
            "I got a new phone and now I can't get past two-factor authentication.",
        ),
        ("mein 2FA-Code wird nicht akzeptiert, ich habe ein neues Handy.",),
        (
            "I've disabled two-factor authentication on your account after verifying your identity. You can "
            "set "
            "it up again under Settings → Security.",
            "Please use one of your backup codes; if you don't have them I can reset 2FA after a quick identity check.",
        ),
        ("I don't have the backup codes anymore.", "The QR code won't scan on the new {device}."),
    ),
    "where_is_order": Topic(
        "Shipping",
        0.13,
        (
            "Where is my order {order}?",
            "Order {order} not delivered yet",
            "Tracking hasn't updated in {days} days",
        ),
        ("Wo bleibt meine Bestellung {order}?",),
        (
            "I ordered the {product} {days} days ago and the tracking number {tracking} still says 'label created'.",
            "My order {order} was supposed to arrive on {weekday}. Nothing yet. Can you check with {carrier}?",
        ),
        ("meine Bestellung {order} ist nach {days} Tagen immer noch nicht angekommen.",),
        (
            "I checked with {carrier}: the parcel is at their local depot and should be delivered within two "
            "business days.",
            "Your order {order} left our warehouse yesterday; the tracking number {tracking} should update "
            "by tomorrow.",
        ),
        ("Tracking still says the same.", "{carrier} says they don't have the parcel."),
    ),
    "damaged_item": Topic(
        "Shipping",
        0.07,
        ("Item arrived damaged", "Broken {product} in my delivery", "Damaged parcel - order {order}"),
        ("Ware beschädigt angekommen",),
        (
            "The {product} from order {order} arrived with a cracked housing. The box was crushed too.",
            "Half of my order arrived broken. Photos attached.",
        ),
        ("der {product} aus Bestellung {order} ist beschädigt angekommen.",),
        (
            "I'm sorry about that! I've sent a replacement {product} at no cost; you don't need to return "
            "the "
            "damaged one.",
            "Thanks for the photos. A replacement is on its way, tracking number {tracking}.",
        ),
        (
            "I didn't get a tracking number for the replacement.",
            "Here are the photos again, they didn't attach.",
        ),
    ),
    "app_crash": Topic(
        "Bug report",
        0.10,
        ("App crashes when I open {screen}", "Acme app keeps crashing on {device}", "Crash on startup"),
        ("App stürzt ständig ab",),
        (
            "The app crashes every time I open {screen}. I'm on a {device} with the latest update.",
            "Since yesterday's update the app closes right after the splash screen.",
        ),
        ("die App stürzt auf meinem {device} ab, sobald ich {screen} öffne.",),
        (
            "Thanks for the report, our developers found the crash and a fix ships in version 4.{digit}. "
            "Until "
            "then, reinstalling the app avoids it.",
            "Could you try clearing the app's cache? We've also passed this on to our mobile team.",
        ),
        ("Reinstalled, still crashing.", "It happens on my tablet too."),
    ),
    "export_broken": Topic(
        "Bug report",
        0.08,
        ("CSV export is broken", "Export to PDF fails", "Export button does nothing"),
        ("Export funktioniert nicht",),
        (
            "When I export my report to CSV the file is empty (0 bytes). It worked last week.",
            "Export to PDF fails with '{error}' for any report longer than a page.",
        ),
        ("der CSV-Export liefert eine leere Datei.",),
        (
            "That's a known issue with exports over 10,000 rows; a fix is rolling out today. Exporting by "
            "month "
            "works in the meantime.",
            "I could reproduce it and filed a bug for our engineers. I'll update you as soon as it's fixed.",
        ),
        ("The monthly export is empty as well.", "Now it's failing on {browser} too."),
    ),
    "feature_request": Topic(
        "Feature request",
        0.10,
        ("Feature request: {feature}", "Suggestion: {feature}", "Would love to see {feature}"),
        ("Funktionswunsch: {feature}",),
        (
            "It would be great to have {feature}. We'd use it every day in our team.",
            "Any plans for {feature}? It's the one thing keeping us from moving our whole team over.",
        ),
        ("wäre es möglich, {feature} einzubauen?",),
        (
            "Thanks for the suggestion! I've added your vote for {feature} to our product board.",
            "Great idea. {feature} is on our roadmap for this year; I'll let you know when it's in beta.",
        ),
        ("Any timeline for that?", "Happy to join a beta test."),
    ),
}
TOPIC_NAMES = tuple(TOPICS)
TOPIC_WEIGHTS = tuple(t.weight for t in TOPICS.values())
SPIKE_WEIGHTS = tuple(
    w * (SPIKE_FACTOR if n == SPIKE_CATEGORY else 1.0) for n, w in zip(TOPICS, TOPIC_WEIGHTS, strict=True)
)

PROACTIVE = (
    ("Your order {order} is delayed", "Your order {order} is delayed because {carrier} had a backlog at the "
     "hub. We expect it to ship on {weekday}; sorry for the wait."),
    ("Action needed: your payment failed", "The payment of {amount} for your {plan} plan didn't go through. "
     "Please update your card under Settings → Billing so your account stays active."),
    ("Your refund for order {order} has been issued", "Good news: we've refunded {amount} for order {order}. "
     "It should appear on your statement within a few days."),
    ("Following up on your export issue", "The export fix we mentioned has shipped. Could you check whether "
     "your CSV exports work again?"),
)  # fmt: skip
GREETINGS = ("Hi,", "Hello,", "Hi there,", "Dear Acme Support,", "Hello Acme team,", "Good morning,")
CLOSINGS = (
    "Thanks,\n{first}",
    "Best regards,\n{name}",
    "Cheers,\n{first}",
    "Thank you!\n{first}",
    "{first}",
)
ANGRY_OPEN = (
    "This is the THIRD TIME I am writing about this.",
    "I am extremely frustrated.",
    "Honestly, this is unacceptable.",
    "STILL NOT WORKING and nobody answers.",
)
ANGRY_CLOSE = (
    "If this isn't fixed today I will cancel my subscription.",
    "I want a refund or I'll file a chargeback with my bank.",
    "Please escalate this to a manager.",
)
NUDGES = (
    "Any update on this?",
    "Hi, just following up on my message from {ago}.",
    "Is anyone looking at this?",
)
ANGRY_NUDGES = (
    "Hello?? Still no answer. This is the third time I'm asking.",
    "STILL NOT WORKING. I want to cancel my subscription.",
    "No reply for days. Refund or chargeback, your choice.",
)
THANKS = (
    "Thanks, that fixed it!",
    "Perfect, it works now. Thank you!",
    "Great, all sorted. Thanks so much, great support!",
    "That did the trick, thanks for the quick help.",
)
THANKS_DE = ("Vielen Dank, jetzt funktioniert es!", "Danke, das hat geklappt.")
STILL_BROKEN = (
    "Unfortunately it's still not working.",
    "I tried that, but no luck.",
    "Same problem as before.",
)
REOPEN = (
    "Hi again, sorry to reopen this, but the problem is back since this morning.",
    "It worked for a few days, but now it's happening again.",
)
AGENT_OPEN = ("Hi {first},", "Hello {first},", "Hi {first}, thanks for reaching out.")
AGENT_SORRY = (
    "I'm really sorry for the trouble and the wait.",
    "I completely understand your frustration, and I apologise.",
)
AGENT_FOLLOW = (
    "Thanks for the extra details. I've looked into it again and fixed the setting on our side; could you "
    "try once more?",
    "Thanks for checking. I've escalated this to our second-level team and will get back to you.",
    "Sorry it's still not right. I've now reset it completely on our end, which should do it.",
)
AGENT_GLAD = (
    "Glad to hear it's working! I'll close this ticket; just reply if anything else comes up.",
    "Great, thanks for letting us know. Have a nice day!",
)
AGENT_CLOSE = ("Best regards,", "Kind regards,", "Cheers,", "Best,")
PROACTIVE_ANSWERS = (
    "Thanks for letting me know.",
    "Could you tell me when exactly? I need it by {weekday}.",
    "I updated the card, please try again.",
    "Yes, it works again now.",
)
NEWSLETTERS = (
    ("SaaS Weekly <newsletter@saasweekly.example>", "<weekly.saasweekly.example>",
     "SaaS Weekly: {n} tips for faster support"),
    ("Support Leaders <digest@supportleaders.example>", "<digest.supportleaders.example>",
     "This week in support: the {n} metrics that matter"),
)  # fmt: skip
NOTIFICATIONS = (
    ("Payments <no-reply@payments.example>", "Your payout of {amount} is on its way"),
    ("Status <noreply@status.example>", "Scheduled maintenance on {weekday}"),
    ("Acme Analytics <notifications@acme-analytics.example>", "Your weekly report is ready"),
)
WORDS = {
    "plan": ("Starter", "Pro", "Team", "Business"),
    "product": (
        "wireless headset",
        "USB-C dock",
        "smart thermostat",
        "label printer",
        "webcam",
        "standing desk",
    ),
    "device": ("iPhone 15", "Pixel 8", "Galaxy S23", "iPad Air", "Windows 11 laptop", "MacBook Air"),
    "screen": ("the dashboard", "Reports", "Settings", "the calendar", "my inbox"),
    "feature": (
        "dark mode",
        "an API for exports",
        "Slack integration",
        "custom fields",
        "bulk editing",
        "SSO login",
    ),
    "error": ("Error 403", "Invalid credentials", "Something went wrong (code 500)", "Session expired"),
    "browser": ("Chrome", "Firefox", "Safari", "Edge"),
    "carrier": ("DHL", "DPD", "UPS", "Hermes"),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"),
    "ago": ("yesterday", "two days ago", "Monday", "last week"),
}
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

# The demo team's taxonomy (`[files] categories`): keyword rules in English and German, specific before general,
# as a team would write them after reading a month of its mail. Mail no rule matches stays Unclassified.
DEMO_TAXONOMY_TOML = """\
# Categories of the demo mailbox (docs/categories.md). Rules are tried in file order.
[categories."Billing > Double Charge"]
keywords = ["charged twice", "double charge", "duplicate payment", "doppelt abgebucht", "doppelte abbuchung"]

[categories."Billing > Refund"]
keywords = ["refund", "rückerstattung"]

[categories."Billing > Invoice"]
keywords = ["invoice", "rechnung", "vat"]

[categories."Account > Password Reset"]
keywords = ["password reset", "reset password", "reset my password", "forgot password", "passwort"]

[categories."Account > Two-Factor"]
keywords = ["2fa", "two-factor", "zwei-faktor"]

[categories."Account > Login"]
keywords = ["log in", "login", "locked out"]

[categories."Shipping > Damaged Item"]
keywords = ["damaged", "beschädigt"]
patterns = ['broken \\w+ in my delivery']

[categories."Shipping > Where Is My Order"]
keywords = ["where is my order", "not delivered", "tracking", "wo bleibt"]

[categories."Bug > App Crash"]
keywords = ["crash", "crashes", "crashing", "stürzt"]

[categories."Bug > Export"]
keywords = ["export"]

[categories."Feature Request"]
keywords = ["feature request", "suggestion", "would love to see", "funktionswunsch"]
"""
