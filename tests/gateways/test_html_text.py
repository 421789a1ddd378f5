"""The plain-text alternative of an HTML email body."""

import pytest

from gateways.html_text import plain_text

LOGIN_EMAIL = """<!DOCTYPE html>
<html>
<head><title>Login</title><style>p { color: #333; }</style></head>
<body>
  <h1>Log in to   Altinn</h1>
  <p>Your code is <b>123456</b>.<br>It expires in 5&nbsp;minutes.</p>
  <p>Not you? <a href="https://example.no/report?c=1&amp;u=2">Tell us</a>, or write to
     <a href="mailto:help@example.no">help@example.no</a>.</p>
  <script>track("open")</script>
  <ul><li>Never share the code</li><li>We never ask for it</li></ul>
  <table><tr><td>Case</td><td>RF-1086</td></tr><tr><td>Date</td><td>1 May</td></tr></table>
  <p><img src="logo.png" alt="Example  Bank"> &copy; 2026 &lt;Example&gt;</p>
</body>
</html>
"""


def test_a_login_email_reads_as_a_reader_would_show_it() -> None:
    assert plain_text(LOGIN_EMAIL) == (
        "Log in to Altinn\n"
        "\n"
        "Your code is 123456.\n"
        "It expires in 5\xa0minutes.\n"
        "\n"
        "Not you? Tell us (https://example.no/report?c=1&u=2), or write to help@example.no.\n"
        "\n"
        "- Never share the code\n"
        "- We never ask for it\n"
        "\n"
        "Case RF-1086\n"
        "Date 1 May\n"
        "\n"
        "Example Bank © 2026 <Example>"
    )


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<b>123456</b>", "123456"),
        # Numbered lists are numbered, from their start; a list in a list keeps its own count.
        (
            "<ol><li>Open the app</li><li>Enter the code</li></ol>",
            "1. Open the app\n2. Enter the code",
        ),
        ('<ol start="3"><li>c<ul><li>x</li></ul></li><li>d</li></ol>', "3. c\n- x\n4. d"),
        ('<ol start="x"><li>a</li></ol><li>stray</li>', "1. a\n\n- stray"),
        ("Your code is 123456", "Your code is 123456"),  # "Html" that has no tags
        ("a<br>b<br><br>c", "a\nb\n\nc"),  # each <br> counts
        ("<div><div><p>a</p></div></div><div><p>b</p></div>", "a\n\nb"),  # blocks that meet
        ("<p>a</p>\n\n   <p>b</p>", "a\n\nb"),
        ("<b>a </b> <i> b</i>", "a b"),  # spaces collapse across elements
        ("<pre>  x = 1\n    y</pre>", "  x = 1\n    y"),  # preformatted keeps its spaces
        # A layout table's spacer cells make no lines; a no-break space in text stays.
        (
            "<table><tr><td>&nbsp;</td></tr><tr><td>Code:</td><td>1&nbsp;2</td></tr>"
            "<tr><td height=20>&nbsp;</td></tr><tr><td>Bye</td></tr></table>",
            "Code: 1\xa02\n\nBye",
        ),
        ('<a href="https://a.example/">https://a.example/</a>', "https://a.example/"),
        ('<a href="#top">Top</a> <a href="javascript:go()">Go</a>', "Top Go"),
        ('<a href="https://a.example/"><img alt=""></a>', "https://a.example/"),
        # A link inside a link closes the first, as in a browser; one left open ends with the body.
        ('<a href="u1">a <a href="u2">b</a>', "a (u1) b (u2)"),
        ('<p><a href="u1">open to the end', "open to the end (u1)"),
        ("<p>Kode: <i>æøå</i> &#128512; &euro;</p>", "Kode: æøå 😀 €"),
        ("<p>unclosed <b>tags <div>and more", "unclosed tags\nand more"),
        ("<script>only()</script><style>x{}</style>", ""),
        ("<html><head><title>Code</title><body>Your code is 123456", "Your code is 123456"),
        ("", ""),
    ],
)
def test_html_becomes_text(html: str, text: str) -> None:
    assert plain_text(html) == text
