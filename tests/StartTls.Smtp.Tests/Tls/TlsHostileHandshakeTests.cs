using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tls;
using Xunit.Abstractions;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// Hostile bytes where a ClientHello belongs, after STARTTLS or first on an implicit-TLS port: whatever SslStream
/// throws for them (AuthenticationException, IOException, but also NotSupportedException for a handshake record that
/// is not a ClientHello) is a failed handshake like any other. The connection closes without an SMTP reply, the log
/// says so in one line below Warning, and the handshake-failure metric counts it as "failed".
/// </summary>
public sealed class TlsHostileHandshakeTests(ITestOutputHelper output) : IDisposable
{
    private readonly MeterRecorder _metrics = new();

    public void Dispose() => _metrics.Dispose();

    public static TheoryData<string, byte[], bool> HostileRecords => new()
    {
        // name, bytes, whether the client then closes its sending side (the record is cut short). SslStream throws
        // NotSupportedException for the first two, IndexOutOfRangeException for the third, AuthenticationException
        // for the next two and IOException for the last. (An empty record, or a length over TLS's limit, makes it wait
        // for more: those end at the handshake timeout, as TlsHandshakeTests' T52 cases do.)
        { "a ServerHello where the ClientHello belongs", [0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00], false },
        { "a Certificate message where the ClientHello belongs", [0x16, 0x03, 0x01, 0x00, 0x04, 0x0b, 0x00, 0x00, 0x00], false },
        { "an empty ClientHello", [0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00], false },
        { "a ClientHello of garbage", [0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff], false },
        { "a record of an unknown version", [0x16, 0xff, 0xff, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00], false },
        { "a record cut short by the client's FIN", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03], true },
    };

    [Theory]
    [MemberData(nameof(HostileRecords))]
    public async Task Hostile_handshake_bytes_after_starttls_are_a_counted_handshake_failure(string name, byte[] bytes, bool thenFin)
    {
        using var logs = new LogCapture();
        var recorder = new SessionRecorder();
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(o => o.Tls.HandshakeTimeout = TimeSpan.FromMinutes(1)), sessionHandler: recorder, loggerFactory: logs, meterFactory: _metrics.Factory);
        await using (var raw = await server.ConnectAsync())
        {
            await raw.EhloAsync();
            (await raw.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
            await ExpectClosedWithoutReplyAsync(raw, name, bytes, thenFin);
        }

        await ExpectOneCountedFailureAsync(recorder, logs, name);
    }

    [Theory]
    [MemberData(nameof(HostileRecords))]
    public async Task Hostile_handshake_bytes_on_the_implicit_port_are_a_counted_handshake_failure(string name, byte[] bytes, bool thenFin)
    {
        using var logs = new LogCapture();
        var recorder = new SessionRecorder();
        await using var server = await TestServer.StartAsync(TlsTestKit.Implicit(o => o.Tls.HandshakeTimeout = TimeSpan.FromMinutes(1)), sessionHandler: recorder, loggerFactory: logs, meterFactory: _metrics.Factory);
        await using (var raw = await RawSmtpClient.ConnectAsync(server.EndPoint))
        {
            await ExpectClosedWithoutReplyAsync(raw, name, bytes, thenFin);
        }

        await ExpectOneCountedFailureAsync(recorder, logs, name);
    }

    [Fact]
    public async Task A_failing_certificate_selector_is_the_applications_error_not_a_clients_failed_handshake()
    {
        using var logs = new LogCapture();
        var recorder = new SessionRecorder();
        await using var server = await TestServer.StartAsync(o => o.Tls.CertificateSelector = new ThrowingSelector(), sessionHandler: recorder, loggerFactory: logs, meterFactory: _metrics.Factory);
        await using (var raw = await server.ConnectAsync())
        {
            await raw.EhloAsync();
            (await raw.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
            await raw.SendAsync(await ClientHello.ModernAsync());
            var after = await Wire.ReceiveUntilClosedAsync(raw.Socket, TimeSpan.FromSeconds(20));
            after.Closed.Should().BeTrue(after.ToString());
            after.HasNoPlaintext.Should().BeTrue(after.ToString());
        }

        await recorder.WaitForCloseAsync();
        logs.Events.Should().ContainSingle(e => e.Level == LogLevel.Error)
            .Which.Exception.Should().BeOfType<ThrowingSelector.SelectorBugException>("the application's bug is reported with its exception");
        _metrics.Recorded("smtp.server.tls.handshake_failures").Should().BeEmpty("the client did nothing wrong");
    }

    private async Task ExpectClosedWithoutReplyAsync(RawSmtpClient raw, string name, byte[] bytes, bool thenFin)
    {
        await raw.SendAsync(bytes);
        if (thenFin)
        {
            raw.Socket.Shutdown(SocketShutdown.Send);
        }

        // The handshake timeout is a minute: a close seen here is the failure's, not the timeout's.
        var after = await Wire.ReceiveUntilClosedAsync(raw.Socket, TimeSpan.FromSeconds(20));
        output.WriteLine(name + ": " + after);
        after.Closed.Should().BeTrue(name + ": " + after);
        after.HasNoPlaintext.Should().BeTrue(name + ": nothing but a TLS alert may come back, got " + after);
    }

    private async Task ExpectOneCountedFailureAsync(SessionRecorder recorder, LogCapture logs, string name)
    {
        // The failure is counted and logged before the connection's close hook runs.
        await recorder.WaitForCloseAsync();
        foreach (var line in logs.Lines)
        {
            output.WriteLine(line);
        }

        _metrics.Recorded("smtp.server.tls.handshake_failures").Select(m => m.Tags).Should().Equal(["reason=failed"], name);
        _metrics.Recorded("smtp.server.tls.handshakes").Should().BeEmpty(name);
        logs.Lines.Should().NotContain(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal) || l.StartsWith("Warning", StringComparison.Ordinal), name);
        logs.Lines.Should().ContainSingle(l => l.Contains("TLS handshake failed", StringComparison.Ordinal), name)
            .Which.Should().StartWith("Information", name);
    }

    private sealed class ThrowingSelector : IServerCertificateSelector
    {
        public ValueTask<SslStreamCertificateContext?> SelectCertificateAsync(string? serverName, SmtpSession session, CancellationToken cancellationToken)
            => throw new SelectorBugException();

        public sealed class SelectorBugException : Exception;
    }
}
