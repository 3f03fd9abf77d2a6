using System.Net;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// An application's filter, store and hooks tested the way an application would: with the public testing factories,
/// no server and no socket.
/// </summary>
public sealed class TestingFactoryTests
{
    /// <summary>An application-style filter: relays only for authenticated clients, refuses big unauthenticated messages, scores content.</summary>
    private sealed class RelayPolicy : IMailboxFilter, IMessageStartHook, IMessageVerdictHook
    {
        public ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken)
        {
            session.Transaction!.Items["sender-checked"] = true;
            return new(session.HeloName is null ? SmtpReply.PolicyRejection : SmtpReply.SenderOk);
        }

        public ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken)
            => new(recipient.Mailbox.Domain == "local.test" || session.IsAuthenticated ? SmtpReply.RecipientOk : SmtpReply.RelayDenied);

        public ValueTask<SmtpReply?> OnMessageStartingAsync(SmtpTransaction transaction, CancellationToken cancellationToken)
            => new(transaction.Envelope.Recipients.Count > 2 && !transaction.Session.IsAuthenticated ? SmtpReply.PolicyRejection : null);

        public ValueTask<SmtpReply> OnMessageReceivedAsync(SmtpTransaction transaction, SmtpReply storeReply, CancellationToken cancellationToken)
            => new(transaction.Items.TryGetValue("score", out var score) && score is int s && s > 5 ? SmtpReply.Spam : storeReply);
    }

    private static SmtpRecipient To(string local, string domain) => new(new SmtpMailbox(local, domain), new Dictionary<string, string?>());

    [Fact]
    public async Task A_filter_is_tested_with_the_public_factories_and_no_socket()
    {
        var policy = new RelayPolicy();
        var anonymous = SmtpSession.CreateForTesting(remoteEndPoint: new IPEndPoint(IPAddress.Loopback, 40000));
        var submitter = SmtpSession.CreateForTesting(heloName: "laptop.test", authenticatedIdentity: "alice");
        var envelope = SmtpEnvelope.CreateForTesting(new SmtpMailbox("a", "c.test"), [To("x", "local.test")], new Dictionary<string, string?> { ["SIZE"] = "100" });
        envelope.MailParameters.Should().ContainKey("size", "parameters are keyed case-insensitively, as the server's are");

        var transaction = SmtpTransaction.CreateForTesting(anonymous, envelope);
        anonymous.Transaction.Should().BeSameAs(transaction);
        transaction.Session.Should().BeSameAs(anonymous);
        transaction.Envelope.Should().BeSameAs(envelope);
        transaction.Id.Should().StartWith(anonymous.Id);

        (await policy.CheckSenderAsync(anonymous, envelope, default)).Should().Be(SmtpReply.SenderOk);
        transaction.Items.Should().ContainKey("sender-checked");
        (await policy.CheckRecipientAsync(anonymous, envelope, To("y", "elsewhere.test"), default)).Should().Be(SmtpReply.RelayDenied);
        (await policy.CheckRecipientAsync(submitter, envelope, To("y", "elsewhere.test"), default)).Should().Be(SmtpReply.RecipientOk);
        var ungreeted = SmtpSession.CreateForTesting(heloName: null);
        SmtpTransaction.CreateForTesting(ungreeted, envelope);
        (await policy.CheckSenderAsync(ungreeted, envelope, default)).Should().Be(SmtpReply.PolicyRejection, "an ungreeted session");

        var many = SmtpTransaction.CreateForTesting(anonymous,
            SmtpEnvelope.CreateForTesting(null, [To("a", "local.test"), To("b", "local.test"), To("c", "local.test")]));
        (await policy.OnMessageStartingAsync(many, default)).Should().Be(SmtpReply.PolicyRejection);
        (await policy.OnMessageStartingAsync(transaction, default)).Should().BeNull();

        (await policy.OnMessageReceivedAsync(transaction, SmtpReply.MessageAccepted, default)).Should().Be(SmtpReply.MessageAccepted);
        transaction.Items["score"] = 9;
        (await policy.OnMessageReceivedAsync(transaction, SmtpReply.MessageAccepted, default)).Should().Be(SmtpReply.Spam);
    }

    [Fact]
    public void The_factories_give_a_session_that_looks_like_the_servers()
    {
        var session = SmtpSession.CreateForTesting(heloName: "client.test", isExtended: false, authenticatedIdentity: "bob");
        session.HeloName.Should().Be("client.test");
        session.IsExtended.Should().BeFalse();
        session.IsAuthenticated.Should().BeTrue();
        session.ProtocolName.Should().Be("SMTP");
        session.IsSecure.Should().BeFalse();
        session.Transaction.Should().BeNull();
        SmtpSession.CreateForTesting().ProtocolName.Should().Be("ESMTP");

        var envelope = SmtpEnvelope.CreateForTesting(null);
        envelope.From.Should().BeNull();
        envelope.Recipients.Should().BeEmpty();
        envelope.BodyType.Should().Be(SmtpBodyType.Unspecified);
    }
}
