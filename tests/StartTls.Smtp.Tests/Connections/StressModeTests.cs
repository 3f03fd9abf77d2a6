using Microsoft.Extensions.Time.Testing;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Connections;

/// <summary>
/// Stress mode, on a fake clock: above <see cref="SmtpServerOptions.StressThreshold"/> of
/// <see cref="SmtpServerOptions.MaxConnections"/>, waiting clients get <see cref="SmtpServerOptions.StressTimeout"/>
/// instead of the greeting and command timeouts; below it, the normal timeouts hold; message content is never hurried.
/// </summary>
public sealed class StressModeTests
{
    private readonly FakeTimeProvider _time = new();

    private SmtpServer NewServer(double threshold = 0.5) => new(new SmtpServerOptions
    {
        ServerName = "mx.test",
        MaxConnections = 4,
        StressThreshold = threshold,
        StressTimeout = TimeSpan.FromSeconds(10),
        GreetingTimeout = TimeSpan.FromMinutes(1),
        CommandTimeout = TimeSpan.FromMinutes(5),
    }, new InMemoryMessageStore(), timeProvider: _time);

    private static async Task<PipeConnection[]> ConnectAsync(SmtpServer server, int count)
    {
        var clients = new PipeConnection[count];
        for (var i = 0; i < count; i++)
        {
            clients[i] = PipeConnection.Start(server);
            (await clients[i].ReadReplyAsync()).Should().StartWith("220 ");
        }

        return clients;
    }

    /// <summary>Sends NOOP on each client: a client the server cut off reads its 421 first.</summary>
    private static async Task<List<string>> NoopAllAsync(IEnumerable<PipeConnection> clients)
    {
        var replies = new List<string>();
        foreach (var client in clients)
        {
            await client.SendAsync("NOOP\r\n");
            replies.Add(await client.ReadLineAsync() ?? "closed");
        }

        return replies;
    }

    [Fact]
    public async Task Above_the_threshold_idle_clients_are_cut_off_after_the_stress_timeout_until_the_load_drops()
    {
        await using var server = NewServer();
        var clients = await ConnectAsync(server, 3); // 3 of 4 > 50 %: stress
        await clients[0].CommandAsync("EHLO c.test"); // one waits for a command, the others for their first

        _time.Advance(TimeSpan.FromSeconds(11));

        // Cutting one off ends the stress (2 of 4), so how many go depends on who is cut first: at least one.
        await Eventually.WaitUntilAsync(() => server.ConnectionCount <= 2, "the load falls to the threshold");
        await Eventually.WaitUntilAsync(() => clients.Count(c => c.Session.IsCompleted) + server.ConnectionCount == 3, "the cut sessions have closed their transports");
        var cut = clients.Where(c => c.Session.IsCompleted).ToList();
        var survivors = clients.Except(cut).ToList();
        foreach (var client in cut)
        {
            (await client.ReadToEndAsync()).Should().Be("421 4.4.2 Timeout, closing connection\r\n");
        }

        // Stress again: the survivors' stress deadlines have passed, so the next tick cuts one off again, and a
        // newcomer keeps its own 10 seconds.
        var newcomer = (await ConnectAsync(server, 3 - survivors.Count))[^1];
        _time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.WaitUntilAsync(() => server.ConnectionCount <= 2, "the load falls to the threshold again");
        await Eventually.WaitUntilAsync(() => survivors.Any(c => c.Session.IsCompleted), "a survivor's passed stress deadline counts again once stress returns");
        (await newcomer.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
    }

    [Fact]
    public async Task At_or_below_the_threshold_the_normal_timeouts_hold()
    {
        await using var server = NewServer();
        var clients = await ConnectAsync(server, 2); // 2 of 4: not above 50 %

        _time.Advance(TimeSpan.FromSeconds(11));

        (await NoopAllAsync(clients)).Should().OnlyContain(r => r == "250 2.0.0 OK", "no stress, so the 1-minute greeting timeout applies");
        _time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        foreach (var client in clients)
        {
            (await client.ReadToEndAsync()).Should().Be("421 4.4.2 Timeout, closing connection\r\n", "the normal command timeout still ends it");
        }
    }

    [Fact]
    public async Task Message_content_is_not_hurried_by_stress()
    {
        await using var server = NewServer();
        var clients = await ConnectAsync(server, 3);
        var sender = clients[0];
        await sender.StartDataAsync();

        _time.Advance(TimeSpan.FromSeconds(11));
        (await NoopAllAsync(clients.Skip(1))).Should().Contain("421 4.4.2 Timeout, closing connection");

        (await sender.CommandAsync("Subject: slow\r\n\r\nbody\r\n.")).Should().StartWith("250 2.0.0", "the 3-minute data block timeout holds under stress");
    }

    [Fact]
    public async Task A_threshold_of_zero_turns_stress_mode_off()
    {
        await using var server = NewServer(threshold: 0);
        var clients = await ConnectAsync(server, 4);

        _time.Advance(TimeSpan.FromSeconds(11));

        foreach (var client in clients)
        {
            (await client.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        }
    }
}
