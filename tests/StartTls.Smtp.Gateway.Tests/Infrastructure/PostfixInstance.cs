using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Gateway.Tests.Infrastructure;

/// <summary>
/// A private Postfix (Debian's binaries) in a temp directory of its own: its own main.cf and master.cf, queue, data
/// and log in that directory, smtpd on a free 127.0.0.1 port, virtual delivery to Maildirs under <see cref="MailRoot"/>
/// for the accounts given, and optionally a relayhost. Started with <c>postfix -c DIR start</c>, stopped with
/// <c>postfix -c DIR stop</c> (its master killed if that fails). Runs as root (here and in CI), with mail_owner postfix.
/// A missing Postfix skips the test, and fails it in CI (<see cref="MissingTool"/>).
/// </summary>
public sealed class PostfixInstance : IAsyncDisposable
{
    private const string MasterCf = """
        pickup    unix  n  -  n  60     1  pickup
        cleanup   unix  n  -  n  -      0  cleanup
        qmgr      unix  n  -  n  300    1  qmgr
        tlsmgr    unix  -  -  n  1000?  1  tlsmgr
        rewrite   unix  -  -  n  -      -  trivial-rewrite
        bounce    unix  -  -  n  -      0  bounce
        defer     unix  -  -  n  -      0  bounce
        trace     unix  -  -  n  -      0  bounce
        verify    unix  -  -  n  -      1  verify
        flush     unix  n  -  n  1000?  0  flush
        proxymap  unix  -  -  n  -      -  proxymap
        proxywrite unix -  -  n  -      1  proxymap
        smtp      unix  -  -  n  -      -  smtp
        relay     unix  -  -  n  -      -  smtp
        showq     unix  n  -  n  -      -  showq
        error     unix  -  -  n  -      -  error
        retry     unix  -  -  n  -      -  error
        discard   unix  -  -  n  -      -  discard
        local     unix  -  n  n  -      -  local
        virtual   unix  -  n  n  -      -  virtual
        lmtp      unix  -  -  n  -      -  lmtp
        anvil     unix  -  -  n  -      1  anvil
        scache    unix  -  -  n  -      1  scache
        postlog   unix-dgram n - n - 1     postlogd

        """;

    private readonly string _postfix;

    private PostfixInstance(string postfix, string directory, int port)
    {
        _postfix = postfix;
        Directory = directory;
        Port = port;
    }

    /// <summary>The configuration directory (and parent of queue, data, mail and the log).</summary>
    public string Directory { get; }

    /// <summary>The smtpd port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Where virtual mailboxes live: MailRoot/LOCALPART/new/….</summary>
    public string MailRoot => Path.Combine(Directory, "mail");

    /// <summary>Postfix's own log (maillog_file).</summary>
    public string LogText => File.Exists(LogPath) ? File.ReadAllText(LogPath) : string.Empty;

    private string LogPath => Path.Combine(Directory, "maillog");

    /// <summary>The Postfix version (postconf mail_version), e.g. 3.7.11.</summary>
    public static async Task<string> VersionAsync()
    {
        var result = await CliTool.RunAsync(PostconfPath(), ["-h", "mail_version"]);
        return result.StandardOutput.Trim();
    }

    /// <summary>
    /// Starts Postfix with virtual mailboxes <paramref name="mailboxes"/> in example.com, relaying everything else to
    /// <paramref name="relayPort"/> on 127.0.0.1 when given (smtp_tls_security_level = may).
    /// </summary>
    public static async Task<PostfixInstance> StartAsync(IReadOnlyList<string> mailboxes, int? relayPort = null)
    {
        var postfix = File.Exists("/usr/sbin/postfix") ? "/usr/sbin/postfix" : MissingTool.Require("postfix");
        var directory = Path.Combine(Path.GetTempPath(), "postfix-" + Guid.NewGuid().ToString("N")[..12]);
        foreach (var sub in new[] { "queue", "data", "mail" })
        {
            System.IO.Directory.CreateDirectory(Path.Combine(directory, sub));
        }

        // Postfix's daemons run as postfix: they must reach the directory, own data/ and write the Maildirs.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        var uid = (await CliTool.RunAsync("id", ["-u", "postfix"])).StandardOutput.Trim();
        var gid = (await CliTool.RunAsync("id", ["-g", "postfix"])).StandardOutput.Trim();
        await MustAsync(CliTool.RunAsync("chown", ["postfix:postfix", Path.Combine(directory, "data"), Path.Combine(directory, "mail")]));

        var port = FreePort();
        var mailboxMap = mailboxes.Count == 0 ? string.Empty : "inline:{ " + string.Join(' ', mailboxes.Select(m => $"{m}@example.com={m}/")) + " }";
        var main = $"""
            compatibility_level = 3.6
            config_directory = {directory}
            queue_directory = {directory}/queue
            data_directory = {directory}/data
            mail_owner = postfix
            setgid_group = postdrop
            inet_interfaces = loopback-only
            inet_protocols = ipv4
            myhostname = postfix.test
            mydomain = postfix.test
            myorigin = postfix.test
            mydestination =
            mynetworks = 127.0.0.0/8
            {(relayPort is { } relay ? $"relayhost = [127.0.0.1]:{relay}" : string.Empty)}
            smtp_tls_security_level = may
            smtp_tls_loglevel = 1
            maillog_file = {directory}/maillog
            maillog_file_prefixes = {directory}
            alias_maps =
            alias_database =
            virtual_mailbox_domains = example.com
            virtual_mailbox_base = {directory}/mail
            virtual_mailbox_maps = {mailboxMap}
            virtual_uid_maps = static:{uid}
            virtual_gid_maps = static:{gid}
            smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
            smtpd_recipient_restrictions = reject_unlisted_recipient

            """;
        await File.WriteAllTextAsync(Path.Combine(directory, "main.cf"), main);
        await File.WriteAllTextAsync(Path.Combine(directory, "master.cf"),
            string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port} inet n - n - - smtpd\n") + MasterCf);

        var instance = new PostfixInstance(postfix, directory, port);
        await instance.RunAsync("check");
        await instance.RunAsync("start");
        await instance.WaitForListenerAsync();
        return instance;
    }

    /// <summary>Injects a message with Postfix's sendmail (<c>sendmail -C DIR ARGS</c>) and flushes the queue.</summary>
    public async Task SendmailAsync(IEnumerable<string> arguments, string message)
    {
        var sendmail = File.Exists("/usr/sbin/sendmail") ? "/usr/sbin/sendmail" : MissingTool.Require("sendmail");
        await MustAsync(CliTool.RunAsync(sendmail, new[] { "-C", Directory }.Concat(arguments), message));
    }

    /// <summary>Waits (<see cref="Eventually"/>: a file raises no event) until Postfix's log contains <paramref name="text"/>.</summary>
    public async Task<string> WaitForLogAsync(string text)
    {
        (await Eventually.HoldsAsync(() => LogText.Contains(text, StringComparison.Ordinal)))
            .Should().BeTrue($"Postfix should log '{text}'; its log:\n{LogText}");
        return LogText;
    }

    /// <summary>The files delivered to the virtual mailbox <paramref name="mailbox"/>.</summary>
    public IReadOnlyList<string> Delivered(string mailbox)
    {
        var newDir = Path.Combine(MailRoot, mailbox, "new");
        return System.IO.Directory.Exists(newDir) ? System.IO.Directory.GetFiles(newDir) : [];
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync("stop");
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
        {
            KillMaster();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A daemon still finishing; the temp directory is left behind.
        }
    }

    private static string PostconfPath() => File.Exists("/usr/sbin/postconf") ? "/usr/sbin/postconf" : MissingTool.Require("postconf");

    private void KillMaster()
    {
        var pidFile = Path.Combine(Directory, "queue", "pid", "master.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
        {
            try
            {
                using var master = Process.GetProcessById(pid);
                master.Kill(entireProcessTree: true);
            }
            catch (ArgumentException)
            {
                // Gone already.
            }
        }
    }

    private async Task RunAsync(string command)
    {
        var result = await CliTool.RunAsync(_postfix, ["-c", Directory, command], timeout: TimeSpan.FromSeconds(60));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"postfix {command} failed ({result}); its log:\n{LogText}");
        }
    }

    private async Task WaitForListenerAsync()
    {
        var listening = await Eventually.HoldsAsync(async () =>
        {
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port));
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        });
        listening.Should().BeTrue($"Postfix's smtpd should listen on {Port}; its log:\n{LogText}");
    }

    private static async Task MustAsync(Task<CliResult> run)
    {
        var result = await run;
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(result.ToString());
        }
    }

    private static int FreePort() => TestGateway.FreePort();
}
