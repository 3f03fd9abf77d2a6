namespace StartTls.Smtp.Protocol;

/// <summary>The endpoint's own policy where it overrides the server's: size limit and AUTH requirement.</summary>
internal sealed partial class SmtpConnection
{
    /// <summary>The largest message this endpoint takes: its own limit, else the server's.</summary>
    private long MaxMessageSize => _endpoint.MaxMessageSize ?? _settings.MaxMessageSize;

    /// <summary>MAIL needs AUTH first here: the endpoint's rule, else the server's. Fails closed: the validator refuses a requirement nobody can meet.</summary>
    private bool RequiresAuthentication => _endpoint.RequireAuthentication ?? _settings.Authentication?.RequireAuthentication ?? false;
}
