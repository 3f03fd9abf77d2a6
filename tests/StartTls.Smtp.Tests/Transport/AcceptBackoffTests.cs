using System.Net.Sockets;
using StartTls.Smtp.Transport;

namespace StartTls.Smtp.Tests.Transport;

/// <summary>The accept loop's delay after a failed accept: grows from 10 ms to 1 s, starts over after a success.</summary>
public sealed class AcceptBackoffTests
{
    [Fact]
    public void The_delay_doubles_up_to_one_second_and_starts_over_after_a_reset()
    {
        var backoff = new AcceptBackoff();
        var delays = Enumerable.Range(0, 10).Select(_ => backoff.Next().TotalMilliseconds).ToList();
        delays.Should().Equal(10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000);

        backoff.Reset();
        backoff.Next().Should().Be(TimeSpan.FromMilliseconds(10));
    }

    [Theory]
    [InlineData(SocketError.TooManyOpenSockets)] // EMFILE and ENFILE
    [InlineData(SocketError.NoBufferSpaceAvailable)] // ENOBUFS
    [InlineData(SocketError.SocketError)] // ENOMEM and anything else .NET does not map
    [InlineData(SocketError.AccessDenied)]
    [InlineData(SocketError.InvalidArgument)]
    public void Resource_shortages_and_unknown_errors_are_waited_out(SocketError error)
        => AcceptBackoff.IsAboutOneConnection(error).Should().BeFalse();

    [Theory]
    [InlineData(SocketError.ConnectionAborted)]
    [InlineData(SocketError.ConnectionReset)]
    [InlineData(SocketError.Interrupted)]
    public void Errors_about_the_one_pending_connection_are_retried_at_once(SocketError error)
        => AcceptBackoff.IsAboutOneConnection(error).Should().BeTrue();
}
