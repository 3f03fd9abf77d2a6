using System.Net;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// The attributes of one XCLIENT command, decoded and checked. Each <c>Has…</c> says the attribute was given;
/// a given attribute whose value is <c>[UNAVAILABLE]</c> or <c>[TEMPUNAVAIL]</c> has a <see langword="null"/> value.
/// </summary>
internal sealed class XclientAttributes
{
    public bool HasName { get; set; }

    public string? Name { get; set; }

    public bool HasAddress { get; set; }

    public IPAddress? Address { get; set; }

    public bool HasPort { get; set; }

    public int Port { get; set; }

    public bool HasProtocol { get; set; }

    /// <summary>True for <c>PROTO=ESMTP</c>.</summary>
    public bool IsExtended { get; set; }

    public bool HasHelo { get; set; }

    public string? Helo { get; set; }

    public bool HasLogin { get; set; }

    public string? Login { get; set; }
}
