using Microsoft.Extensions.Logging;
using StartTls.Smtp.Server;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Tests.Samples;

public sealed class CommandLineOptionsTests
{
    private static CommandLineOptions ParseOk(params string[] args)
    {
        var result = CommandLineOptions.Parse(args);
        result.Error.Should().BeNull();
        result.ShowHelp.Should().BeFalse();
        return result.Options!;
    }

    private static string ParseError(params string[] args)
    {
        var result = CommandLineOptions.Parse(args);
        result.Options.Should().BeNull();
        result.ShowHelp.Should().BeFalse();
        return result.Error!;
    }

    [Fact]
    public void No_arguments_give_the_defaults()
    {
        var options = ParseOk();

        options.Listen.Should().BeEmpty();
        options.Maildir.Should().BeNull();
        options.Store.Should().Be(StoreKind.Maildir);
        options.MaxMessageSize.Should().BeNull();
        options.HostName.Should().BeNull();
        options.LogLevel.Should().BeNull();
        options.NoTraceHeaders.Should().BeFalse();
    }

    [Fact]
    public void Every_flag_is_parsed()
    {
        var options = ParseOk("--listen", "127.0.0.1:2600", "--maildir", "/tmp/mail", "--store", "maildir",
            "--max-message-size", "1048576", "--hostname", "mx.example.com", "--log-level", "Debug", "--no-trace-headers");

        options.Listen.Should().Equal("127.0.0.1:2600");
        options.Maildir.Should().Be("/tmp/mail");
        options.Store.Should().Be(StoreKind.Maildir);
        options.MaxMessageSize.Should().Be(1048576);
        options.HostName.Should().Be("mx.example.com");
        options.LogLevel.Should().Be(LogLevel.Debug);
        options.NoTraceHeaders.Should().BeTrue();
    }

    [Fact]
    public void Listen_is_repeatable_and_keeps_the_order()
    {
        ParseOk("--listen", "127.0.0.1:2525", "--listen", "[::1]:2525", "--listen=localhost:2526", "--listen", "*:25")
            .Listen.Should().Equal("127.0.0.1:2525", "[::1]:2525", "localhost:2526", "*:25");
    }

    [Fact]
    public void Values_may_follow_an_equals_sign()
    {
        var options = ParseOk("--maildir=/var/mail", "--store=maildir", "--log-level=warning");

        options.Maildir.Should().Be("/var/mail");
        options.LogLevel.Should().Be(LogLevel.Warning);
        ParseOk("--maildir=--odd").Maildir.Should().Be("--odd");
    }

    [Theory]
    [InlineData("null", "Null")]
    [InlineData("maildir", "Maildir")]
    [InlineData("NULL", "Null")]
    public void Store_accepts_maildir_and_null(string value, string expected)
        => ParseOk("--store", value).Store.Should().Be(Enum.Parse<StoreKind>(expected));

    [Theory]
    [InlineData("trace", LogLevel.Trace)]
    [InlineData("Information", LogLevel.Information)]
    [InlineData("ERROR", LogLevel.Error)]
    [InlineData("none", LogLevel.None)]
    public void Log_level_accepts_the_level_names(string value, LogLevel expected)
        => ParseOk("--log-level", value).LogLevel.Should().Be(expected);

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void Help_wins_over_everything(string flag)
    {
        var result = CommandLineOptions.Parse(["--bogus", "--listen", "nonsense", flag]);

        result.ShowHelp.Should().BeTrue();
        result.Options.Should().BeNull();
        result.Error.Should().BeNull();
    }

    [Fact]
    public void Usage_names_every_flag()
    {
        foreach (var flag in new[] { "--listen HOST:PORT", "--maildir PATH", "--store maildir|null", "--max-message-size BYTES",
                     "--hostname NAME", "--log-level LEVEL", "--no-trace-headers", "--proxy-protocol CIDR", "--xclient CIDR", "--lmtp HOST:PORT", "--submission HOST:PORT", "--submissions HOST:PORT", "--help" })
        {
            CommandLineOptions.Usage.Should().Contain(flag);
        }
    }

    [Fact]
    public void Lmtp_is_repeatable_and_adds_lmtp_endpoints_beside_the_default_one()
    {
        var parsed = ParseOk("--lmtp", "127.0.0.1:2424", "--lmtp=[::1]:2424");
        parsed.Lmtp.Should().Equal("127.0.0.1:2424", "[::1]:2424");

        var options = new SmtpServerOptions();
        parsed.ApplyTo(options);

        options.Endpoints.Select(e => (e.Address, e.Protocol)).Should().Equal(
            ("127.0.0.1:2525", SmtpEndpointProtocol.Smtp),
            ("127.0.0.1:2424", SmtpEndpointProtocol.Lmtp),
            ("[::1]:2424", SmtpEndpointProtocol.Lmtp));
    }

    [Fact]
    public void Lmtp_beside_listen_keeps_only_the_listen_addresses_for_smtp()
    {
        var options = new SmtpServerOptions();
        ParseOk("--listen", "127.0.0.1:2600", "--lmtp", "127.0.0.1:2424").ApplyTo(options);

        options.Endpoints.Select(e => (e.Address, e.Protocol)).Should().Equal(
            ("127.0.0.1:2600", SmtpEndpointProtocol.Smtp),
            ("127.0.0.1:2424", SmtpEndpointProtocol.Lmtp));
    }

    [Theory]
    [InlineData("127.0.0.1:25", "RFC 2033")]
    [InlineData("nonsense", "--lmtp")]
    public void Lmtp_refuses_port_25_and_bad_addresses(string value, string expected)
        => ParseError("--lmtp", value).Should().StartWith("--lmtp").And.Contain(expected);

    [Fact]
    public void Proxy_protocol_and_xclient_are_repeatable_and_reach_the_server_options()
    {
        var parsed = ParseOk("--proxy-protocol", "10.0.0.0/8", "--proxy-protocol=2001:db8::/32", "--xclient", "127.0.0.1", "--xclient", "192.0.2.0/24");
        parsed.ProxyProtocol.Should().Equal("10.0.0.0/8", "2001:db8::/32");
        parsed.Xclient.Should().Equal("127.0.0.1", "192.0.2.0/24");

        var options = new SmtpServerOptions();
        parsed.ApplyTo(options);
        options.ProxyProtocol.TrustedSources.Should().Equal("10.0.0.0/8", "2001:db8::/32");
        options.Xclient.TrustedSources.Should().Equal("127.0.0.1", "192.0.2.0/24");
    }

    [Fact]
    public void Submission_and_submissions_are_repeatable_and_add_endpoints_with_their_own_policy()
    {
        var parsed = ParseOk("--submission", "127.0.0.1:587", "--submission=[::1]:587", "--submissions", "127.0.0.1:465", "--user", "alice:secret");
        parsed.Submission.Should().Equal("127.0.0.1:587", "[::1]:587");
        parsed.Submissions.Should().Equal("127.0.0.1:465");

        var options = new SmtpServerOptions();
        parsed.ApplyTo(options);
        options.Endpoints.Select(e => (e.Address, e.Name, e.ImplicitTls, e.RequireTls, e.RequireAuthentication)).Should().Equal(
            ("127.0.0.1:2525", (string?)null, false, false, (bool?)null),
            ("127.0.0.1:587", "submission", false, true, true),
            ("[::1]:587", "submission", false, true, true),
            ("127.0.0.1:465", "submissions", true, false, true));
        options.Authentication.RequireAuthentication.Should().BeFalse("the default endpoint stays an MX");
    }

    [Fact]
    public void Submission_endpoints_come_after_the_listen_ones()
    {
        var options = new SmtpServerOptions();
        ParseOk("--listen", "127.0.0.1:25", "--submission", "127.0.0.1:587", "--user", "alice:secret").ApplyTo(options);
        options.Endpoints.Select(e => e.Address).Should().Equal("127.0.0.1:25", "127.0.0.1:587");
    }

    [Theory]
    [InlineData(new[] { "--submission", "127.0.0.1:587" }, "--submission and --submissions require authentication: give at least one --user")]
    [InlineData(new[] { "--submissions", "127.0.0.1:465" }, "--submission and --submissions require authentication: give at least one --user")]
    [InlineData(new[] { "--submission", "127.0.0.1", "--user", "a:b" }, "--submission '127.0.0.1' is not HOST:PORT")]
    [InlineData(new[] { "--submissions", "127.0.0.1:465", "--user", "a:b", "--no-tls" }, "--no-tls cannot be combined with --cert, --key, --sni, --implicit-tls, --submission, --submissions or --require-tls")]
    public void Submission_flags_refuse_what_cannot_work(string[] args, string error)
        => ParseError(args).Should().Be(error);

    [Theory]
    [InlineData("--proxy-protocol", "10.0.0.0/33")]
    [InlineData("--proxy-protocol", "proxy.example")]
    [InlineData("--xclient", "10.1/16")]
    public void A_bad_trusted_source_is_refused(string flag, string value)
        => ParseError(flag, value).Should().Be($"{flag} '{value}' is not an IP address or CIDR block (for example 10.0.0.0/8)");

    [Theory]
    [InlineData(new[] { "--bogus" }, "unknown option '--bogus'")]
    [InlineData(new[] { "--Listen", "127.0.0.1:25" }, "unknown option '--Listen'")]
    [InlineData(new[] { "-l" }, "unexpected argument '-l'")]
    [InlineData(new[] { "serve" }, "unexpected argument 'serve'")]
    [InlineData(new[] { "--" }, "unexpected argument '--'")]
    [InlineData(new[] { "" }, "unexpected argument ''")]
    [InlineData(new[] { "--maildir" }, "--maildir needs a value")]
    [InlineData(new[] { "--maildir", "--store", "null" }, "--maildir needs a value")]
    [InlineData(new[] { "--maildir=" }, "--maildir needs a path")]
    [InlineData(new[] { "--maildir", "a", "--maildir", "b" }, "--maildir is given more than once")]
    [InlineData(new[] { "--store", "disk" }, "--store must be 'maildir' or 'null', not 'disk'")]
    [InlineData(new[] { "--no-trace-headers=yes" }, "--no-trace-headers takes no value")]
    [InlineData(new[] { "--store", "null", "--maildir", "/tmp/m" }, "--maildir and --no-trace-headers apply only to --store maildir")]
    [InlineData(new[] { "--store", "null", "--no-trace-headers" }, "--maildir and --no-trace-headers apply only to --store maildir")]
    public void Bad_command_lines_are_refused_with_a_clear_message(string[] args, string expected)
        => ParseError(args).Should().Be(expected);

    [Theory]
    [InlineData("2525")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:")]
    [InlineData("127.0.0.1:65536")]
    [InlineData("127.0.0.1:-1")]
    [InlineData("127.0.0.1:smtp")]
    [InlineData("::1:25")]
    [InlineData("mail.example.com:25")]
    [InlineData("")]
    public void Listen_refuses_what_the_server_cannot_bind(string value)
        => ParseError("--listen", value).Should().StartWith("--listen ");

    [Fact]
    public void Listen_errors_quote_the_value()
        => ParseError("--listen", "nonsense").Should().Be("--listen 'nonsense' is not HOST:PORT");

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("+5")]
    [InlineData("10MB")]
    [InlineData("1e6")]
    [InlineData(" 100")]
    [InlineData("99999999999999999999")]
    public void Max_message_size_must_be_a_positive_whole_number(string value)
        => ParseError("--max-message-size", value).Should().StartWith("--max-message-size must be a whole number of bytes");

    [Theory]
    [InlineData("two words")]
    [InlineData("héllo.example")]
    public void Hostname_must_be_printable_ascii_without_spaces(string value)
        => ParseError("--hostname", value).Should().StartWith("--hostname must be 1 to 255 printable ASCII characters");

    [Fact]
    public void Hostname_of_256_characters_is_refused()
        => ParseError("--hostname", new string('a', 256)).Should().StartWith("--hostname must be");

    [Theory]
    [InlineData("verbose")]
    [InlineData("2")]
    [InlineData("info")]
    public void Log_level_must_be_a_level_name(string value)
        => ParseError("--log-level", value).Should()
            .Be($"--log-level must be one of Trace, Debug, Information, Warning, Error, Critical, None, not '{value}'");

    [Fact]
    public void Applying_listen_replaces_configured_endpoints()
    {
        var server = new SmtpServerOptions { MaxMessageSize = 5, ServerName = "configured" };
        server.Endpoints.Add(new SmtpEndpointOptions { Address = "0.0.0.0:25" });

        ParseOk("--listen", "127.0.0.1:2600", "--listen", "[::1]:2600", "--max-message-size", "1000", "--hostname", "mx.test")
            .ApplyTo(server);

        server.Endpoints.Select(e => e.Address).Should().Equal("127.0.0.1:2600", "[::1]:2600");
        server.MaxMessageSize.Should().Be(1000);
        server.ServerName.Should().Be("mx.test");
    }

    [Fact]
    public void Applying_no_flags_keeps_the_configured_values()
    {
        var server = new SmtpServerOptions { MaxMessageSize = 5, ServerName = "configured" };
        server.Endpoints.Add(new SmtpEndpointOptions { Address = "0.0.0.0:25" });
        var maildir = new MaildirStoreOptions { Path = "configured-mail", ServerName = "configured" };

        var options = ParseOk();
        options.ApplyTo(server);
        options.ApplyTo(maildir);

        server.Endpoints.Select(e => e.Address).Should().Equal("0.0.0.0:25");
        server.MaxMessageSize.Should().Be(5);
        server.ServerName.Should().Be("configured");
        maildir.Path.Should().Be("configured-mail");
        maildir.AddTraceHeaders.Should().BeTrue();
        maildir.ServerName.Should().Be("configured");
    }

    [Fact]
    public void Applying_store_flags_sets_the_maildir_options()
    {
        var maildir = new MaildirStoreOptions();

        ParseOk("--maildir", "/tmp/m", "--no-trace-headers", "--hostname", "mx.test").ApplyTo(maildir);

        maildir.Path.Should().Be("/tmp/m");
        maildir.AddTraceHeaders.Should().BeFalse();
        maildir.ServerName.Should().Be("mx.test");
    }
}
