using System.Text;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Chunking;

/// <summary>
/// BDAT framing does not depend on how the bytes arrive: each transcript, split into two writes at every byte boundary
/// (and sent byte by byte), gets exactly the replies and stores exactly the messages it does in one write. Served in
/// memory, each piece read by the server before the next is written.
/// </summary>
public sealed class ChunkSplitTranscriptTests
{
    private const string Envelope = "EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\n";

    /// <summary>The transcripts, each with a reply and the messages the answer in one piece must show (so the comparison is not vacuous).</summary>
    private static readonly Dictionary<string, (string Input, string Expected, string[] Stored)> Transcripts = new()
    {
        ["chunks"] = (Envelope + "BDAT 9\r\nhi\r\n.\r\nQUBDAT 4\r\n\r\n\n\rNOOP\r\nBDAT 0 LAST\r\nNOOP\r\nQUIT\r\n", "221 ", ["hi\r\n.\r\nQU\r\n\n\r"]),
        ["last_only"] = (Envelope + "BDAT 13 LAST\r\nhi\r\n.\r\nQUIT\r\nNOOP\r\nQUIT\r\n", "221 ", ["hi\r\n.\r\nQUIT\r\n"]),
        ["refused_then_accepted"] = ("EHLO c.test\r\nBDAT 12 LAST\r\nNOOP\r\nNOOP\r\nMAIL FROM:<a@c.test>\r\nBDAT 6\r\nQUIT\r\nRCPT TO:<b@s.test>\r\nBDAT 3 LAST\r\nabcQUIT\r\n", "554 5.5.1", ["abc"]),
        ["over_the_limit"] = (Envelope + "BDAT 40\r\n" + new string('a', 40) + "BDAT 40\r\n" + new string('b', 40) + "BDAT 2 LAST\r\nxyRSET\r\nQUIT\r\n", "552 5.3.4", []),
        ["interrupted"] = (Envelope + "BDAT 3\r\nabcMAIL FROM:<x@c.test>\r\nBDAT 2 LAST\r\nxyRSET\r\nQUIT\r\n", "503 5.5.1", []),
        ["long_chunk"] = (Envelope + "BDAT 3 LAST\r\nabcdef\r\nQUIT\r\n", "500 5.5.1", ["abc"]),
        ["unframeable"] = (Envelope + "BDAT 5 LAST x\r\nNOOP\r\n", "501 5.5.4", []),
    };

    public static TheoryData<string> Names => new(Transcripts.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public async Task A_bdat_transcript_split_at_any_byte_gets_the_answer_it_gets_in_one_piece(string name)
    {
        var (input, expected, stored) = Transcripts[name];
        var bytes = Encoding.Latin1.GetBytes(input);
        await using var server = await StartAsync();
        var whole = await RunAsync(server, [bytes]);
        whole.Replies.Should().Contain(expected, "the transcript in one piece is answered as the scenario says");
        whole.Stored.Should().Equal(stored);
        for (var split = 1; split < bytes.Length; split++)
        {
            var answer = await RunAsync(server, [bytes[..split], bytes[split..]]);
            answer.Replies.Should().Be(whole.Replies, "split after byte {0} of {1}", split, name);
            answer.Stored.Should().Equal(whole.Stored, "split after byte {0} of {1}", split, name);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task A_bdat_transcript_sent_byte_by_byte_gets_the_answer_it_gets_in_one_piece(string name)
    {
        var bytes = Encoding.Latin1.GetBytes(Transcripts[name].Input);
        await using var server = await StartAsync();
        var whole = await RunAsync(server, [bytes]);
        var answer = await RunAsync(server, [.. bytes.Select(b => new[] { b })]);
        answer.Replies.Should().Be(whole.Replies);
        answer.Stored.Should().Equal(whole.Stored);
    }

    private static Task<TestServer> StartAsync() => TestServer.StartAsync(o => o.MaxMessageSize = 64);

    /// <summary>One session: each piece read by the server before the next is written, then the end of input; returns all the server said and stored.</summary>
    private static async Task<(string Replies, string[] Stored)> RunAsync(TestServer server, byte[][] pieces)
    {
        server.Messages.Clear();
        await using var connection = PipeConnection.Start(server.Server);
        foreach (var piece in pieces)
        {
            await connection.SendPieceOrEndAsync(piece);
        }

        await connection.CompleteInputAsync();
        var replies = await connection.ReadToEndAsync();
        return (replies, [.. server.Messages.Messages.Select(m => Encoding.Latin1.GetString(m.Content.Span))]);
    }
}
