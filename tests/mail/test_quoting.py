"""split_reply: real-world reply shapes, each with the new text, quoted history and signature stated exactly.

Bodies marked "r-help", "r-package-devel", "perceval" or "hyperkitty" are excerpts of real messages from the
shared data (r-help-mbox, email-edgecase-fixtures); the archives anonymise addresses ("jgb at example.com"). Lines that
must end in a space ("-- ") are written with an explicit "\\n" so that editors cannot strip them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from deskpulse.mail.quoting import ReplyParts, split_reply


@dataclass(frozen=True)
class Case:
    name: str
    body: str
    new_text: str
    quoted_text: str = ""
    signature: str = ""


GMAIL_TOP_POSTED = """Hi Ana,

The invoice is attached again. Let me know if it still fails.

On Mon, 5 Jan 2026 at 10:00, Ana Lima <ana.lima@example.com> wrote:
> Hello,
>
> I still can't download invoice INV-2041, the link returns a 404.
>
> Ana
"""
GMAIL_TOP_POSTED_QUOTE = """On Mon, 5 Jan 2026 at 10:00, Ana Lima <ana.lima@example.com> wrote:
> Hello,
>
> I still can't download invoice INV-2041, the link returns a 404.
>
> Ana"""

CASES = [
    Case(
        "top-posted reply with Gmail attribution",
        GMAIL_TOP_POSTED,
        new_text="Hi Ana,\n\nThe invoice is attached again. Let me know if it still fails.",
        quoted_text=GMAIL_TOP_POSTED_QUOTE,
    ),
    Case(
        "CRLF line endings give the same split",
        GMAIL_TOP_POSTED.replace("\n", "\r\n"),
        new_text="Hi Ana,\n\nThe invoice is attached again. Let me know if it still fails.",
        quoted_text=GMAIL_TOP_POSTED_QUOTE,
    ),
    Case(
        # The answers between the quote blocks are new text; the blocks of each part are joined by a blank line.
        "bottom-posted interleaved reply",
        """On Tue, 6 Jan 2026 at 09:12, Support <support@acme.example> wrote:
> Which version of the app are you running?

4.2.1 on Android 14.

> Does the crash happen on Wi-Fi too?
Yes, on both Wi-Fi and mobile data.

Thanks,
Bob
""",
        new_text="4.2.1 on Android 14.\n\nYes, on both Wi-Fi and mobile data.",
        quoted_text=(
            "On Tue, 6 Jan 2026 at 09:12, Support <support@acme.example> wrote:\n"
            "> Which version of the app are you running?\n"
            "\n"
            "> Does the crash happen on Wi-Fi too?"
        ),
        signature="Thanks,\nBob",
    ),
    Case(
        "Outlook original-message block, closing and signature above it",
        """Hello team,

Please close the ticket, the printer works again.

Best regards,
Jonas Weber
IT Operations | Example GmbH

-----Original Message-----
From: Support <support@acme.example>
Sent: Monday, January 5, 2026 4:02 PM
To: Jonas Weber <jonas.weber@example.de>
Subject: RE: Printer offline [#4412]

Could you restart the print spooler?
""",
        new_text="Hello team,\n\nPlease close the ticket, the printer works again.",
        quoted_text="""-----Original Message-----
From: Support <support@acme.example>
Sent: Monday, January 5, 2026 4:02 PM
To: Jonas Weber <jonas.weber@example.de>
Subject: RE: Printer offline [#4412]

Could you restart the print spooler?""",
        signature="Best regards,\nJonas Weber\nIT Operations | Example GmbH",
    ),
    Case(
        # r-help 2024-March (Leo Mada): Outlook's underscore line and From/Sent/To/Subject block, unquoted
        # history below, and the list's "[[alternative HTML version deleted]]" at the very end.
        "r-help: Outlook underscore header block",
        """Dear Ivan,

Thank you very much for this interesting information.

Sincerely,

Leonard

________________________________
From: Ivan Krylov <ikrylov at disroot.org>
Sent: Wednesday, February 28, 2024 10:36 AM
To: Leo Mada via R-help <r-help at r-project.org>
Subject: Re: [R] Clustering Functions used by Reverse-Dependencies

For well-behaved packages that declare their dependencies correctly,
parsing the NAMESPACE for importFrom() and import() calls should give
you the explicit imports.

--
Best regards,
Ivan

\t[[alternative HTML version deleted]]
""",
        new_text="Dear Ivan,\n\nThank you very much for this interesting information.",
        quoted_text="""________________________________
From: Ivan Krylov <ikrylov at disroot.org>
Sent: Wednesday, February 28, 2024 10:36 AM
To: Leo Mada via R-help <r-help at r-project.org>
Subject: Re: [R] Clustering Functions used by Reverse-Dependencies

For well-behaved packages that declare their dependencies correctly,
parsing the NAMESPACE for importFrom() and import() calls should give
you the explicit imports.

--
Best regards,
Ivan""",
        signature="Sincerely,\n\nLeonard\n\n[[alternative HTML version deleted]]",
    ),
    Case(
        "German 'Am ... schrieb' attribution with a German closing",
        """Hallo,

danke, das Problem ist gelöst.

Viele Grüße
Jonas

Am 05.01.2026 um 10:00 schrieb Support Team <support@acme.example>:
> Bitte starten Sie den Router neu.
""",
        new_text="Hallo,\n\ndanke, das Problem ist gelöst.",
        quoted_text=(
            "Am 05.01.2026 um 10:00 schrieb Support Team <support@acme.example>:\n> Bitte starten Sie den Router neu."
        ),
        signature="Viele Grüße\nJonas",
    ),
    Case(
        "German Outlook header block (Von/Gesendet/An/Betreff)",
        """Danke für die schnelle Antwort.

Von: Support <support@acme.example>
Gesendet: Montag, 5. Januar 2026 10:00
An: Jonas Weber <jonas.weber@example.de>
Betreff: AW: Drucker offline

Bitte starten Sie den Druckerspooler neu.
""",
        new_text="Danke für die schnelle Antwort.",
        quoted_text="""Von: Support <support@acme.example>
Gesendet: Montag, 5. Januar 2026 10:00
An: Jonas Weber <jonas.weber@example.de>
Betreff: AW: Drucker offline

Bitte starten Sie den Druckerspooler neu.""",
    ),
    Case(
        # r-help 2024-March (Deepayan Sarkar): Gmail wrapped the attribution before the address.
        "r-help: attribution wrapped over two lines",
        """Perhaps you mean

https://search.r-project.org/R/refmans/utils/html/flush.console.html

Best,
Deepayan


On Wed, 13 Mar, 2024, 8:59 pm Christofer Bogaso, <
bogaso.christofer at gmail.com> wrote:

> Hi,
>
> I run a lengthy for loop and I want to display loop status for each
> step in my loop.
""",
        new_text="Perhaps you mean\n\nhttps://search.r-project.org/R/refmans/utils/html/flush.console.html",
        quoted_text="""On Wed, 13 Mar, 2024, 8:59 pm Christofer Bogaso, <
bogaso.christofer at gmail.com> wrote:

> Hi,
>
> I run a lengthy for loop and I want to display loop status for each
> step in my loop.""",
        signature="Best,\nDeepayan",
    ),
    Case(
        # Trailing whitespace is stripped from every line, so the delimiter comes back as "--".
        "signature after the RFC 3676 '-- ' delimiter",
        "The export finished, the file is 2.3 GB.\n\n-- \nPriya Raman\nData Platform, Example Corp\n",
        new_text="The export finished, the file is 2.3 GB.",
        signature="--\nPriya Raman\nData Platform, Example Corp",
    ),
    Case(
        "Sent from my iPhone above an Apple Mail quote",
        """Yes, please go ahead.

Sent from my iPhone

> On 5 Jan 2026, at 10:00, Support <support@acme.example> wrote:
>
> Can we reboot the server tonight?
""",
        new_text="Yes, please go ahead.",
        quoted_text=(
            "> On 5 Jan 2026, at 10:00, Support <support@acme.example> wrote:\n>\n> Can we reboot the server tonight?"
        ),
        signature="Sent from my iPhone",
    ),
    Case(
        "Get Outlook for iOS",
        "Approved.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n",
        new_text="Approved.",
        signature="Get Outlook for iOS<https://aka.ms/o0ukef>",
    ),
    Case(
        # A name alone is not a closing: without a salutation above it, it stays in the text.
        "message without any quote",
        """Hi,

My password reset link expired. Can you send a new one?

Maria
""",
        new_text="Hi,\n\nMy password reset link expired. Can you send a new one?\n\nMaria",
    ),
    Case(
        "message that is only a quote",
        "> On Mon, 5 Jan 2026 at 10:00, Ana Lima <ana.lima@example.com> wrote:\n> Is the outage over?\n",
        new_text="",
        quoted_text="> On Mon, 5 Jan 2026 at 10:00, Ana Lima <ana.lima@example.com> wrote:\n> Is the outage over?",
    ),
    Case(
        "message that is only an attribution and its quote",
        "On Mon, 5 Jan 2026 at 10:00, Ana Lima <ana.lima@example.com> wrote:\n\n> Is the outage over?\n",
        new_text="",
        quoted_text=("On Mon, 5 Jan 2026 at 10:00, Ana Lima <ana.lima@example.com> wrote:\n\n> Is the outage over?"),
    ),
    Case("empty body", "", new_text=""),
    Case("blank body", " \n\n\t\n", new_text=""),
    Case(
        "r-help mailing-list footer after the text",
        """Use t.test(x, y, var.equal = TRUE) for Student's test.

______________________________________________
R-help at r-project.org mailing list -- To UNSUBSCRIBE and more, see
https://stat.ethz.ch/mailman/listinfo/r-help
PLEASE do read the posting guide https://www.R-project.org/posting-guide.html
and provide commented, minimal, self-contained, reproducible code.
""",
        new_text="Use t.test(x, y, var.equal = TRUE) for Student's test.",
        signature="""______________________________________________
R-help at r-project.org mailing list -- To UNSUBSCRIBE and more, see
https://stat.ethz.ch/mailman/listinfo/r-help
PLEASE do read the posting guide https://www.R-project.org/posting-guide.html
and provide commented, minimal, self-contained, reproducible code.""",
    ),
    Case(
        # r-help 2024-March (Jeff Newmiller): the quoted message carries the list footer (it stays quoted),
        # and the signature comes after the quote.
        "r-help: quoted footer, then '-- ' and a phone signature",
        "This really is all LaTeX errors, not R errors.\n"
        "\n"
        "On March 1, 2024 7:46:53 AM PST, Benjamin Tyner <btyner at gmail.com> wrote:\n"
        ">When trying to build R version 4.3.3 it gives LaTeX errors.\n"
        ">\n"
        ">______________________________________________\n"
        ">R-help at r-project.org mailing list -- To UNSUBSCRIBE and more, see\n"
        ">https://stat.ethz.ch/mailman/listinfo/r-help\n"
        "\n"
        "-- \n"
        "Sent from my phone. Please excuse my brevity.\n",
        new_text="This really is all LaTeX errors, not R errors.",
        quoted_text="""On March 1, 2024 7:46:53 AM PST, Benjamin Tyner <btyner at gmail.com> wrote:
>When trying to build R version 4.3.3 it gives LaTeX errors.
>
>______________________________________________
>R-help at r-project.org mailing list -- To UNSUBSCRIBE and more, see
>https://stat.ethz.ch/mailman/listinfo/r-help""",
        signature="--\nSent from my phone. Please excuse my brevity.",
    ),
    Case(
        # perceval pipermail_2016_april (Jesus M. Gonzalez-Barahona): interleaved answers, a closing at the
        # end of the last answer, and a trailing quote after it.
        "perceval: interleaved reply with a closing before a trailing quote",
        """On Sat, 2016-04-23 at 18:18 +0200, Andy Grunwald wrote:
> Thank you Jesus.
> For me it is fine to use this mailinglist.

Great.

> One question: The old tools (CVSAnaly, MLStats, ...) are deprecated /
> obsolete and get no further development from your side anymore?

At least for a while, we're planning to still maintain them.

Saludos,

\tJesus.

> Andy
""",
        new_text="Great.\n\nAt least for a while, we're planning to still maintain them.",
        quoted_text="""On Sat, 2016-04-23 at 18:18 +0200, Andy Grunwald wrote:
> Thank you Jesus.
> For me it is fine to use this mailinglist.

> One question: The old tools (CVSAnaly, MLStats, ...) are deprecated /
> obsolete and get no further development from your side anymore?

> Andy""",
        signature="Saludos,\n\n\tJesus.",
    ),
    Case(
        # perceval pipermail_2016_april (Andy Grunwald): Gmail's older verb-less attribution, and the pipermail
        # attachment stub after the quote.
        "perceval: verb-less Gmail attribution and pipermail 'next part' stub",
        """Thank you Jesus.
For me it is fine to use this mailinglist.

Andy

2016-04-14 11:06 GMT+02:00 Jesus M. Gonzalez-Barahona <jgb at example.com>:

> Hi all,
>
> This is to present GrimoreLab [1] to this mailing list.
-------------- next part --------------
An HTML attachment was scrubbed...
URL: <http://lists.libresoft.es/pipermail/metrics-grimoire/attachments/20160423/30a5c1ca/attachment.html>
""",
        new_text="Thank you Jesus.\nFor me it is fine to use this mailinglist.\n\nAndy",
        quoted_text="""2016-04-14 11:06 GMT+02:00 Jesus M. Gonzalez-Barahona <jgb at example.com>:

> Hi all,
>
> This is to present GrimoreLab [1] to this mailing list.""",
        signature="""-------------- next part --------------
An HTML attachment was scrubbed...
URL: <http://lists.libresoft.es/pipermail/metrics-grimoire/attachments/20160423/30a5c1ca/attachment.html>""",
    ),
    Case(
        # hyperkitty non-ascii-headers (Vít Ondruch): Czech attribution verb, nested quotes.
        "hyperkitty: Czech 'napsal(a)' attribution",
        """Dne 10.7.2012 13:48, Paul Howarth napsal(a):
> On 07/10/2012 12:29 PM, Vít Ondruch wrote:
>> Any opinions?
>
> Perl has the macros in the main perl package.

Thank you for your clarification. Actually, it is similar for Ruby.
""",
        new_text="Thank you for your clarification. Actually, it is similar for Ruby.",
        quoted_text="""Dne 10.7.2012 13:48, Paul Howarth napsal(a):
> On 07/10/2012 12:29 PM, Vít Ondruch wrote:
>> Any opinions?
>
> Perl has the macros in the main perl package.""",
    ),
    Case(
        # hyperkitty non-ascii-headers (Björn Persson): a bare "Name wrote:" is an attribution only because a
        # quote follows it.
        "hyperkitty: bare 'Name wrote:' before an interleaved quote",
        """Simon A. Erat wrote:
> First of all, whats the acronym FHS standing for?

The Filesystem Hierarchy Standard:
http://www.pathname.com/fhs/pub/fhs-2.3.html
""",
        new_text="The Filesystem Hierarchy Standard:\nhttp://www.pathname.com/fhs/pub/fhs-2.3.html",
        quoted_text="Simon A. Erat wrote:\n> First of all, whats the acronym FHS standing for?",
    ),
    Case(
        # r-help 2024-March (Martin Maechler): his client indents the quote markers.
        "r-help: indented '> ' quotes",
        """>>>>> Berwin A Turlach
>>>>>     on Wed, 28 Feb 2024 17:42:27 +0800 writes:

    > On Tue, 27 Feb 2024 13:51:25 -0800 Jeff Newmiller via
    > R-help <r-help at r-project.org> wrote:

    >> Vectors don't have any concept of "row" vs. "column".

There are *vectors* and they belong to a vector space and that's it.
""",
        new_text="There are *vectors* and they belong to a vector space and that's it.",
        quoted_text=""">>>>> Berwin A Turlach
>>>>>     on Wed, 28 Feb 2024 17:42:27 +0800 writes:

    > On Tue, 27 Feb 2024 13:51:25 -0800 Jeff Newmiller via
    > R-help <r-help at r-project.org> wrote:

    >> Vectors don't have any concept of "row" vs. "column".""",
    ),
    Case(
        # r-package-devel 2024q2 (Dirk Eddelbuettel): Emacs-style "| " quoting, recognised because an
        # attribution line introduces it.
        "r-package-devel: '| ' quotes after an attribution",
        "On 1 April 2024 at 17:44, Uwe Ligges wrote:\n"
        "| Untested:\n"
        "| \n"
        "| install.packages() calls available.packages() to find out which packages\n"
        '| are available - and passes a "filters" argument if supplied.\n'
        "\n"
        "Intriguing.  Presumably that would work for update.packages() too?\n"
        "\n"
        "Dirk\n"
        "\n"
        "-- \n"
        "dirk.eddelbuettel.com | @eddelbuettel | edd at debian.org\n",
        new_text="Intriguing.  Presumably that would work for update.packages() too?\n\nDirk",
        quoted_text="""On 1 April 2024 at 17:44, Uwe Ligges wrote:
| Untested:
|
| install.packages() calls available.packages() to find out which packages
| are available - and passes a "filters" argument if supplied.""",
        signature="--\ndirk.eddelbuettel.com | @eddelbuettel | edd at debian.org",
    ),
    Case(
        # r-package-devel 2022q1 (Rolf Turner): "<SNIP>" between the attribution and the quote it introduces.
        "r-package-devel: attribution separated from its quote by <SNIP>",
        "On Sun, 6 Feb 2022 13:25:48 +0300\n"
        "Ivan Krylov <krylov.r00t at gmail.com> wrote:\n"
        "\n"
        "<SNIP>\n"
        "\n"
        "> d2f is declared to have dimensions (kstate,npar,npar) in derivf.f, but\n"
        "> is only a real(kind=8) in its caller, getgl.f.\n"
        "\n"
        "Aaaarrrghhhh!  Yes, that must be it.\n"
        "\n"
        "cheers,\n"
        "\n"
        "Rolf\n"
        "\n"
        "-- \n"
        "Honorary Research Fellow\n"
        "Department of Statistics\n"
        "University of Auckland\n",
        new_text="<SNIP>\n\nAaaarrrghhhh!  Yes, that must be it.",
        quoted_text="""On Sun, 6 Feb 2022 13:25:48 +0300
Ivan Krylov <krylov.r00t at gmail.com> wrote:

> d2f is declared to have dimensions (kstate,npar,npar) in derivf.f, but
> is only a real(kind=8) in its caller, getgl.f.""",
        signature="cheers,\n\nRolf\n\n--\nHonorary Research Fellow\nDepartment of Statistics\nUniversity of Auckland",
    ),
    Case(
        "Gmail forwarded message: the forwarded content is quoted",
        """FYI, see the customer's complaint below.

---------- Forwarded message ---------
From: Ana Lima <ana.lima@example.com>
Date: Mon, 5 Jan 2026 at 10:00
Subject: Broken invoice link
To: <billing@acme.example>

The link in invoice INV-2041 returns a 404.
""",
        new_text="FYI, see the customer's complaint below.",
        quoted_text="""---------- Forwarded message ---------
From: Ana Lima <ana.lima@example.com>
Date: Mon, 5 Jan 2026 at 10:00
Subject: Broken invoice link
To: <billing@acme.example>

The link in invoice INV-2041 returns a 404.""",
    ),
    Case(
        # Some clients put the attribution above an unquoted copy: a dated "On ... wrote:" starts history.
        "attribution followed by unquoted history",
        """Thanks, that worked.

On Mon, 5 Jan 2026 at 10:00, Support <support@acme.example> wrote:
Please restart the app.
""",
        new_text="Thanks, that worked.",
        quoted_text="On Mon, 5 Jan 2026 at 10:00, Support <support@acme.example> wrote:\nPlease restart the app.",
    ),
    Case(
        # "Thanks!" followed by a sentence is gratitude, not a sign-off.
        "conservative: an exclamation of thanks is not a closing",
        "Thank you!\nThe issue is fixed now.\n",
        new_text="Thank you!\nThe issue is fixed now.",
    ),
    Case(
        # A closing needs text of the sender's own above it: otherwise new_text would be empty.
        "conservative: a closing alone stays new text",
        "Thanks,\nBob\n\n> Did the patch work?\n",
        new_text="Thanks,\nBob",
        quoted_text="> Did the patch work?",
    ),
    Case(
        # 1 line of text above "--", 11 below: a signature may not be most of the message.
        "conservative: '--' near the top of a long message is not a signature",
        "Steps to reproduce:\n--\n" + "\n".join(f"{n}. step {n}" for n in range(1, 12)) + "\n",
        new_text="Steps to reproduce:\n--\n" + "\n".join(f"{n}. step {n}" for n in range(1, 12)),
    ),
    Case(
        # "Best regards," is followed by 5 lines: more than the 4 a signature block may have after a closing.
        "conservative: a closing followed by more than four lines",
        "Done.\n\nBest regards,\nSam\nLine 1\nLine 2\nLine 3\nLine 4\n",
        new_text="Done.\n\nBest regards,\nSam\nLine 1\nLine 2\nLine 3\nLine 4",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_split_reply(case: Case) -> None:
    assert split_reply(case.body) == ReplyParts(case.new_text, case.quoted_text, case.signature)


@pytest.mark.parametrize(
    "attribution",
    [
        "On Mon, 5 Jan 2026 at 10:00, Ana Lima <ana.lima@example.com> wrote:",
        "Am 05.01.2026 um 10:00 schrieb Ana Lima <ana.lima@example.com>:",
        "Ana Lima <ana.lima@example.com> schrieb am Mo., 5. Jan. 2026, 10:00:",
        "Le 5 janv. 2026 à 10:00, Ana Lima <ana.lima@example.com> a écrit :",
        "El lun, 5 ene 2026 a las 10:00, Ana Lima (<ana.lima@example.com>) escribió:",
        "Op ma 5 jan. 2026 om 10:00 schreef Ana Lima <ana.lima@example.com>:",
        "Il giorno lun 5 gen 2026 alle ore 10:00 Ana Lima <ana.lima@example.com> ha scritto:",
        "Em seg., 5 de jan. de 2026 às 10:00, Ana Lima <ana.lima@example.com> escreveu:",
    ],
)
def test_attribution_lines_in_several_languages(attribution: str) -> None:
    parts = split_reply(f"Merci, c'est réglé.\n\n{attribution}\n> Pouvez-vous vérifier ?\n")
    assert parts == ReplyParts("Merci, c'est réglé.", f"{attribution}\n> Pouvez-vous vérifier ?", "")


@pytest.mark.parametrize(
    "banner",
    [
        "-----Original Message-----",
        "----- Original Message -----",
        "-----Ursprüngliche Nachricht-----",
        "-------- Message d'origine --------",
        "-------- Forwarded Message --------",
        "Begin forwarded message:",
    ],
)
def test_history_banners(banner: str) -> None:
    parts = split_reply(f"See below.\n\n{banner}\nFrom: Ana Lima <ana.lima@example.com>\n\nOld text\n")
    assert parts == ReplyParts("See below.", f"{banner}\nFrom: Ana Lima <ana.lima@example.com>\n\nOld text", "")


def test_a_from_line_in_prose_is_not_a_header_block() -> None:
    body = "From: the logs I see a timeout.\nDate: unknown, sorry.\n\nCan you check?\n"
    assert split_reply(body) == ReplyParts(body.strip(), "", "")


def _content_lines(text: str) -> list[str]:
    return sorted(line.strip() for line in text.splitlines() if line.strip())


def test_r_help_month_loses_and_invents_no_line(shared_data: Path) -> None:
    """Every non-blank line of every r-help message of March 2024 ends up in exactly one part."""
    month = shared_data / "r-help-mbox" / "r-help" / "2024-March.txt"
    text = month.read_text(encoding="utf-8", errors="replace")
    bodies = [message.partition("\n\n")[2] for message in text.split("\nFrom ") if "\n\n" in message]
    assert len(bodies) > 30
    for body in bodies:
        parts = split_reply(body)
        assert _content_lines(body) == _content_lines("\n".join([parts.new_text, parts.quoted_text, parts.signature]))
