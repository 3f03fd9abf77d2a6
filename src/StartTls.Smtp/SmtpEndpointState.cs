using System.Net;

namespace StartTls.Smtp;

/// <summary>
/// The state of one of the server's own endpoints at the moment <see cref="SmtpServer.GetEndpointStates"/> was called:
/// what a health check reports. An endpoint bound on several addresses (<c>*</c>, <c>localhost</c>) has one state per
/// address.
/// </summary>
public sealed class SmtpEndpointState
{
    internal SmtpEndpointState(string name, string address, IPEndPoint? endPoint, bool isListening)
    {
        Name = name;
        Address = address;
        EndPoint = endPoint;
        IsListening = isListening;
    }

    /// <summary>The endpoint's name in logs and metrics (<see cref="SmtpEndpointOptions.Name"/>, or its address).</summary>
    public string Name { get; }

    /// <summary>The configured address (<see cref="SmtpEndpointOptions.Address"/>).</summary>
    public string Address { get; }

    /// <summary>The bound address with its real port; null when the endpoint has not been bound.</summary>
    public IPEndPoint? EndPoint { get; }

    /// <summary>True while the socket is bound and accepting connections: after a successful start, before the stop.</summary>
    public bool IsListening { get; }
}
