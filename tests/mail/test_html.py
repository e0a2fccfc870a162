"""html_to_text: what the major mail clients send, rendered to the text split_reply reads, stated exactly.

Bodies marked "hyperkitty" are excerpts of real messages in email-edgecase-fixtures (quoted-printable decoded).
"""

from __future__ import annotations

import random

import pytest

from deskpulse.mail.html import html_to_text
from deskpulse.mail.quoting import ReplyParts, split_reply

GMAIL_REPLY = (
    '<div dir="ltr"><div>Hi Ana,</div><div><br></div><div>I re-sent the receipt for order <b>#48213</b>.</div>'
    "<div><br></div><div>Best regards,</div><div>Sam</div></div><br>"
    '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, 5 Jan 2026 at 10:00, Ana Lima &lt;'
    '<a href="mailto:ana.lima@example.com">ana.lima@example.com</a>&gt; wrote:<br></div>'
    '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);'
    'padding-left:1ex"><div dir="ltr"><div>I paid for order #48213 but never got a receipt.</div><div><br></div>'
    '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Sun, 4 Jan 2026 at 18:00, Acme Shop &lt;'
    "shop@acme.example&gt; wrote:<br></div>"
    '<blockquote class="gmail_quote"><div>Your order #48213 has been received.</div><ul>'
    "<li>1 x Wireless keyboard &ndash; &euro;49.00</li><li>1 x USB-C hub &ndash; &euro;29.00</li></ul>"
    "</blockquote></div></div></blockquote></div>"
)
GMAIL_REPLY_TEXT = """Hi Ana,

I re-sent the receipt for order #48213.

Best regards,
Sam

> On Mon, 5 Jan 2026 at 10:00, Ana Lima <ana.lima@example.com> wrote:
>
> I paid for order #48213 but never got a receipt.
>
>> On Sun, 4 Jan 2026 at 18:00, Acme Shop <shop@acme.example> wrote:
>>
>> Your order #48213 has been received.
>>
>> - 1 x Wireless keyboard – €49.00
>> - 1 x USB-C hub – €29.00"""

# Outlook on the web: the reply header sits in #divRplyFwdMsg after an empty #appendonsend, and the previous
# message follows as siblings.
OUTLOOK_WEB_REPLY = (
    '<div dir="ltr">Please close the ticket, the printer works again.</div><div><br></div>'
    '<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">'
    '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000">'
    "<b>From:</b> Support &lt;support@acme.example&gt;<br><b>Sent:</b> Monday, January 5, 2026 4:02 PM<br>"
    "<b>To:</b> Jonas Weber &lt;jonas.weber@example.de&gt;<br><b>Subject:</b> RE: Printer offline</font>"
    "<div>&nbsp;</div></div><div>Could you restart the print spooler?</div>"
)
OUTLOOK_WEB_REPLY_TEXT = """Please close the ticket, the printer works again.

> From: Support <support@acme.example>
> Sent: Monday, January 5, 2026 4:02 PM
> To: Jonas Weber <jonas.weber@example.de>
> Subject: RE: Printer offline
>
> Could you restart the print spooler?"""

# hyperkitty html-email-1: Outlook 2007 (Word) HTML. Paragraphs have no margin; empty ones are the blank lines.
OUTLOOK_WORD_HTML = """<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta name=Generator
content="Microsoft Word 12 (filtered medium)"><style><!--
p.MsoNormal, li.MsoNormal, div.MsoNormal
	{margin:0cm;
	margin-bottom:.0001pt;}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]--></head><body lang=FR link=blue vlink=purple><div class=WordSection1><p
class=MsoNormal>Bonjour,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Vous
connaissez&nbsp;?<o:p></o:p></p><p class=MsoNormal><span lang=EN-US>The blog&nbsp;: </span><a
href="http://blogactionday.org/"><span lang=EN-US>http://blogactionday.org/</span></a><span
lang=EN-US><o:p></o:p></span></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Et cette
ann\u00e9e, on y participe ?<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p
class=MsoNormal>Amicalement<o:p></o:p></p><p class=MsoNormal>Yves<o:p></o:p></p></div></body></html>"""

# hyperkitty attachment-3: a Gmail forward. There is no <blockquote>; the gmail_quote container marks it.
GMAIL_FORWARD = (
    'Si il y a des belges qui tra\u00eenent par l\u00e0 :)<br><br><div class="gmail_quote">'
    '---------- Message transf\u00e9r\u00e9 ----------<br>De : <b class="gmail_sendername">Geoffrey Roucourt'
    '</b> <span dir="ltr">&lt;<a href="mailto:geoffrey.roucourt@gmail.com">geoffrey.roucourt@gmail.com</a>&gt;'
    "</span><br>\nDate : 9 septembre 2012 19:19<br>Objet : Tu peux m&#39;aider \u00e0 changer le visage "
    "d&#39;Ixelles<br><br><br>Bonjour,<br>\n<br>Comment ? <br>- En faisant \u00e9tat de ton soutien.<br>"
    "- En partageant les infos de mon blog.<br></div>"
)
GMAIL_FORWARD_TEXT = """Si il y a des belges qui traînent par là :)

> ---------- Message transféré ----------
> De : Geoffrey Roucourt <geoffrey.roucourt@gmail.com>
> Date : 9 septembre 2012 19:19
> Objet : Tu peux m'aider à changer le visage d'Ixelles
>
> Bonjour,
>
> Comment ?
> - En faisant état de ton soutien.
> - En partageant les infos de mon blog."""


@pytest.mark.parametrize(
    ("html", "text"),
    [
        pytest.param(GMAIL_REPLY, GMAIL_REPLY_TEXT, id="Gmail reply with nested gmail_quote"),
        pytest.param(OUTLOOK_WEB_REPLY, OUTLOOK_WEB_REPLY_TEXT, id="Outlook on the web: appendonsend"),
        pytest.param(
            OUTLOOK_WORD_HTML,
            "Bonjour,\n\nVous connaissez ?\nThe blog : http://blogactionday.org/\n\nEt cette année, on y "
            "participe ?\n\nAmicalement\nYves",
            id="hyperkitty: Outlook Word HTML, MsoNormal paragraphs",
        ),
        pytest.param(GMAIL_FORWARD, GMAIL_FORWARD_TEXT, id="hyperkitty: Gmail forward in gmail_quote"),
        pytest.param(
            "<div>Yes, go ahead.</div><div><br></div><div>Sent from my iPhone</div><div><br>"
            '<blockquote type="cite">On 5 Jan 2026, at 10:00, Support &lt;support@acme.example&gt; wrote:<br>'
            '<br></blockquote></div><blockquote type="cite"><div>Can we reboot tonight?<br>'
            '<blockquote type="cite">Is the server down?</blockquote></div></blockquote>',
            "Yes, go ahead.\n\nSent from my iPhone\n\n> On 5 Jan 2026, at 10:00, Support "
            "<support@acme.example> wrote:\n>\n> Can we reboot tonight?\n>\n>> Is the server down?",
            id="Apple Mail: nested blockquote type=cite",
        ),
        pytest.param(
            '<p>Works for me.</p><div class="moz-cite-prefix">On 05/01/2026 10:00, Ana Lima wrote:<br></div>'
            '<blockquote type="cite" cite="mid:abc@example.com"><p>Does the fix work?</p></blockquote><br>',
            "Works for me.\n\n> On 05/01/2026 10:00, Ana Lima wrote:\n>\n> Does the fix work?",
            id="Thunderbird: moz-cite-prefix",
        ),
        pytest.param(
            "<html><head><title>Receipt</title><style>p {color: red}</style></head><body>"
            "<script>track()</script><noscript>Enable JS</noscript><p>Paid.</p></body></html>",
            "Paid.",
            id="head, script, style and noscript dropped",
        ),
        pytest.param(
            "<p>Tom &amp; Jerry &lt;tj@example.com&gt; &quot;quoted&quot; &#8217; &#x2014; caf&eacute;</p>",
            'Tom & Jerry <tj@example.com> "quoted" ’ — café',
            id="entities decoded",
        ),
        pytest.param(
            "<p>Steps:</p><ol><li>Open <b>Settings</b></li><li>Click&nbsp;<i>Reset</i><ul><li>then confirm</li>"
            "</ul></li></ol><p>Done.</p>",
            "Steps:\n\n- Open Settings\n- Click Reset\n  - then confirm\n\nDone.",
            id="list items, nested list indented",
        ),
        pytest.param(
            "<p>a</p><br><br><br><br><p>b</p><div><br></div><div><br></div><div>c</div>",
            "a\n\nb\n\nc",
            id="runs of blank lines collapsed",
        ),
        pytest.param(
            "<p>Log:</p><pre>ERROR  disk full\n  at /var/log</pre><p>Help?</p>",
            "Log:\n\nERROR  disk full\n  at /var/log\n\nHelp?",
            id="pre keeps spaces and line breaks",
        ),
        pytest.param(
            "<table><tr><th>Order</th><th>Total</th></tr><tr><td>#123</td><td>&euro;5.00</td></tr></table>",
            "Order Total\n#123 €5.00",
            id="table rows on lines, cells spaced",
        ),
        pytest.param(
            '<span style="display: none">Your receipt inside</span><p>Thanks\u200b for your order.</p>',
            "Thanks for your order.",
            id="hidden preheader and zero-width characters dropped",
        ),
        pytest.param(
            "line one\nline two   with   spaces",
            "line one line two with spaces",
            id="text without tags: whitespace collapses as in a browser",
        ),
        pytest.param("", "", id="empty"),
        pytest.param("  \n\t ", "", id="blank"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_gmail_reply_splits_like_plain_text() -> None:
    parts = split_reply(html_to_text(GMAIL_REPLY))
    quoted = GMAIL_REPLY_TEXT[GMAIL_REPLY_TEXT.index("> On Mon") :]
    assert parts == ReplyParts("Hi Ana,\n\nI re-sent the receipt for order #48213.", quoted, "Best regards,\nSam")


def test_outlook_web_reply_splits_like_plain_text() -> None:
    parts = split_reply(html_to_text(OUTLOOK_WEB_REPLY))
    quoted = OUTLOOK_WEB_REPLY_TEXT[OUTLOOK_WEB_REPLY_TEXT.index("> From") :]
    assert parts == ReplyParts("Please close the ticket, the printer works again.", quoted, "")


@pytest.mark.parametrize(
    ("html", "text"),
    [
        pytest.param(
            "<div><p>Hello <b>world<div>unclosed <blockquote>quoted <i>text</p></span></div>",
            "Hello world\n\nunclosed\n\n> quoted text",
            id="unclosed and stray tags",
        ),
        pytest.param("<p>5 < 6 && 7 > 3</p><", "5 < 6 && 7 > 3\n\n<", id="bare < and &"),
        pytest.param("<div>" * 5000 + "deep" + "</div>" * 5000, "deep", id="nesting deeper than recursion"),
        pytest.param("<p>nul\x00byte</p>", "nulbyte", id="NUL character dropped"),
    ],
)
def test_broken_html_gives_best_effort_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_never_raises_on_mangled_markup() -> None:
    rng = random.Random(20260105)
    alphabet = "<>/=\"'&;#!-abdiv pbrlquote\n\t\x00\xa0é🙂"
    for _ in range(500):
        cut = rng.randrange(len(GMAIL_REPLY))
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
        assert isinstance(html_to_text(GMAIL_REPLY[:cut] + noise + GMAIL_REPLY[cut + 50 :]), str)


def test_outlook_desktop_reply_header_is_found_by_split_reply() -> None:
    """Outlook desktop marks its reply header only with a border style; the From/Sent/To/Subject block that
    html_to_text renders is what split_reply recognises."""
    html = (
        "<div class=WordSection1><p class=MsoNormal>Received, thank you.<o:p></o:p></p>"
        "<p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Kind regards,<o:p></o:p></p>"
        "<p class=MsoNormal>Ana Lima<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>"
        "<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal>"
        "<b>From:</b> Acme Support &lt;support@acme.example&gt; <br><b>Sent:</b> Monday, January 5, 2026 10:05 AM"
        "<br><b>To:</b> Ana Lima &lt;ana.lima@example.com&gt;<br><b>Subject:</b> RE: Missing receipt<o:p></o:p>"
        "</p></div><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>We re-sent the receipt.</p></div>"
    )
    assert split_reply(html_to_text(html)) == ReplyParts(
        "Received, thank you.",
        "From: Acme Support <support@acme.example>\nSent: Monday, January 5, 2026 10:05 AM\n"
        "To: Ana Lima <ana.lima@example.com>\nSubject: RE: Missing receipt\n\nWe re-sent the receipt.",
        "Kind regards,\nAna Lima",
    )
