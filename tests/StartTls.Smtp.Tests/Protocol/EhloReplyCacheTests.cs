using StartTls.Smtp.Protocol;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>The EHLO reply is built once per distinct capability set, the endpoint's SIZE included, and reused without allocating.</summary>
public sealed class EhloReplyCacheTests
{
    private static readonly ProtocolSettings Settings = new(new SmtpServerOptions { MaxMessageSize = 1000 }, "mx.test");

    [Fact]
    public void Each_size_has_its_own_reply_built_once()
    {
        var small = Settings.GetEhloReply(offerStartTls: true, secure: false, "PLAIN", maxMessageSize: 100);
        var large = Settings.GetEhloReply(offerStartTls: true, secure: false, "PLAIN", maxMessageSize: 200);

        small.ToString().Should().Contain("SIZE 100\n").And.Contain("AUTH PLAIN");
        large.ToString().Should().Contain("SIZE 200\n");
        Settings.GetEhloReply(offerStartTls: true, secure: false, "PLAIN", maxMessageSize: 100).Should().BeSameAs(small);
        Settings.GetEhloReply(offerStartTls: true, secure: false, null, maxMessageSize: 1000).Should().BeSameAs(Settings.EhloReplyWithStartTls,
            "the server's own size is the prebuilt reply");
    }

    [Fact]
    public void A_cached_reply_is_found_without_allocating()
    {
        var mechanisms = string.Join(' ', "SCRAM-SHA-256", "PLAIN"); // a session's own string, equal to the cached key
        for (var i = 0; i < 100; i++)
        {
            // Warm-up: the first calls build the reply and may allocate in the runtime (JIT, generic dictionaries).
            Settings.GetEhloReply(offerStartTls: false, secure: true, mechanisms, maxMessageSize: 300);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Settings.GetEhloReply(offerStartTls: false, secure: true, mechanisms, maxMessageSize: 300);
        }

        // One allocation per call would be at least 24 000 bytes; a one-off in the runtime (a tier-up) is tolerated.
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(1000);
    }
}
