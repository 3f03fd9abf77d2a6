using System.Text;
using StartTls.Smtp.Tests.Authentication;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// A command line whose end has not arrived is carried outside the input pipe (so the pipe can give its segment back):
/// whatever the byte at which a transcript is split, the server must answer exactly as it does to the transcript in one
/// piece — line limits, the discarding of over-long lines, bare CR and LF across the split, AUTH lines and the rule that
/// STARTTLS and DATA end their group. Served in memory, each piece read before the next is written.
/// </summary>
public sealed class SplitCommandLineTranscriptTests
{
    private const int CommandLimit = 512;
    private const int AuthLimit = 1024;

    /// <summary>The transcripts, each with a reply the answer in one piece must contain (so the comparison is not vacuous).</summary>
    private static readonly Dictionary<string, (string Input, string Expected)> Transcripts = new()
    {
        ["pipelined"] = ("EHLO c.test\r\nNOOP\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nRSET\r\nQUIT\r\n", "221 "),
        ["near_the_limit"] = ("NOOP " + new string('x', CommandLimit - 7) + "\r\nNOOP " + new string('y', CommandLimit - 6) + "\r\nNOOP\r\n", "500 5.5.2"),
        ["over_long"] = ("EHLO c.test\r\nNOOP " + new string('x', 2 * CommandLimit) + "MAIL FROM:<e@c.test>\r\nRCPT TO:<b@s.test>\r\nQUIT\r\n", "500 5.5.2"),
        ["auth_length"] = ("EHLO c.test\r\nAUTH PLAIN " + AuthTestKit.Plain(AuthTestKit.User, AuthTestKit.Password, new string('z', 600)) + "\r\nNOOP\r\nQUIT\r\n", "221 "),
        ["auth_response"] = ("EHLO c.test\r\nAUTH PLAIN\r\n" + AuthTestKit.Plain(AuthTestKit.User, AuthTestKit.Password, new string('z', 600)) + "\r\nNOOP\r\n", "334 "),
        ["auth_over_long"] = ("EHLO c.test\r\nAUTH PLAIN " + new string('A', AuthLimit + 100) + "\r\nNOOP\r\nQUIT\r\n", "500 5.5.6"),
        ["bare_cr"] = ("NOOP\r\rx\r\nQUIT\r\n", "Bare CR"),
        ["bare_cr_before_lf"] = ("NOOP\r\r\nQUIT\r\n", "Bare CR"),
        ["bare_lf"] = ("NOOP\r\nNOOP\nQUIT\r\n", "Bare LF"),
        ["bare_lf_alone"] = ("NOOP\r\n\nQUIT\r\n", "Bare LF"),
        ["crlf_split_everywhere"] = ("NOOP\r\nRSET\r\nNOOP x\r\nQUIT\r\n", "221 "),
        ["starttls_last"] = ("EHLO c.test\r\nNOOP\r\nSTARTTLS\r\n", "220 2.0.0"),
        ["starttls_then_injection"] = ("EHLO c.test\r\nNOOP\r\nSTARTTLS\r\nRSET\r\n", "554 5.5.0"),
        ["data_last"] = ("EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nDATA\r\n", "354 "),
        ["data_then_content"] = ("EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n", "554 5.5.0"),
    };

    public static TheoryData<string> Names => new(Transcripts.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public async Task A_transcript_split_at_any_byte_gets_the_answer_it_gets_in_one_piece(string name)
    {
        var (input, expected) = Transcripts[name];
        var bytes = Encoding.Latin1.GetBytes(input);
        await using var server = await StartAsync();
        var whole = await RunAsync(server, [bytes]);
        whole.Should().Contain(expected, "the transcript in one piece is answered as the scenario says");

        // A split right after STARTTLS or DATA decides the group differently (the bytes after it come after the reply).
        var groupEnds = GroupEnds(input);
        for (var split = 1; split < bytes.Length; split++)
        {
            if (groupEnds.Contains(split))
            {
                continue;
            }

            var answer = await RunAsync(server, [bytes[..split], bytes[split..]]);
            answer.Should().Be(whole, "split after byte {0} of {1}", split, name);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task A_transcript_sent_byte_by_byte_gets_the_answer_it_gets_in_one_piece(string name)
    {
        var (input, _) = Transcripts[name];
        var bytes = Encoding.Latin1.GetBytes(input);
        await using var server = await StartAsync();
        var whole = await RunAsync(server, [bytes]);
        var groupEnds = GroupEnds(input);

        // Byte by byte, every line ends its group: compare only the transcripts where no STARTTLS or DATA has bytes behind it.
        if (groupEnds.Count == 0)
        {
            var pieces = bytes.Select(b => new[] { b }).ToArray();
            (await RunAsync(server, pieces)).Should().Be(whole);
        }
        else
        {
            // Sent byte by byte up to the end of the group, then the rest in one piece: the STARTTLS or DATA ends its group.
            var end = groupEnds.Min();
            var pieces = bytes[..end].Select(b => new[] { b }).Append(bytes[end..]).ToArray();
            var answer = await RunAsync(server, pieces);
            answer.Should().NotContain("554 5.5.0", "the group ended with the STARTTLS or DATA line");
            answer.Should().Contain(input.Contains("STARTTLS", StringComparison.Ordinal) ? "220 2.0.0" : "354 ");
        }
    }

    private static Task<TestServer> StartAsync() => TestServer.StartAsync(TlsTestKit.WithCertificate(o =>
    {
        o.MaxCommandLineLength = CommandLimit;
        o.MaxBadCommands = 100;
        o.Authentication.MaxLineLength = AuthLimit;
        o.Authentication.AllowInsecureAuthentication = true;
        o.Authentication.PasswordAuthenticator = AuthTestKit.NewUsers();
    }));

    /// <summary>The offsets right after a STARTTLS or DATA line that has more bytes behind it.</summary>
    private static HashSet<int> GroupEnds(string input)
    {
        var ends = new HashSet<int>();
        foreach (var verb in (string[])["STARTTLS\r\n", "DATA\r\n"])
        {
            var at = input.IndexOf(verb, StringComparison.Ordinal);
            if (at >= 0 && at + verb.Length < input.Length)
            {
                ends.Add(at + verb.Length);
            }
        }

        return ends;
    }

    /// <summary>One session: each piece read by the server before the next is written, then the end of input; returns all the server said.</summary>
    private static async Task<string> RunAsync(TestServer server, byte[][] pieces)
    {
        await using var connection = PipeConnection.Start(server.Server);
        foreach (var piece in pieces)
        {
            await connection.SendPieceOrEndAsync(piece);
        }

        await connection.CompleteInputAsync();
        return await connection.ReadToEndAsync();
    }
}
