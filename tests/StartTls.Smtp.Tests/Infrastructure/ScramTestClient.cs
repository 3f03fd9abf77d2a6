using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// The one client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) in the tests: builds client-first and client-final
/// (the proof), checks that the server's nonce extends the client's, and knows the server signature to expect. Drives
/// the mechanism directly or the server over a socket; <see cref="WithChannelBinding"/> makes the -PLUS variant.
/// </summary>
/// <param name="user">The user name, already SCRAM-escaped ("=2C", "=3D") if it needs it.</param>
/// <param name="password">The password the proof is computed from.</param>
/// <param name="gs2Header">The GS2 header: "n,," (no binding), "y,,", "p=tls-server-end-point,," or with "a=authzid".</param>
/// <param name="clientNonce">The client nonce; random when null.</param>
/// <param name="channelBinding">The channel-binding data sent in c= when <see cref="ClientFinal"/> is given none.</param>
public sealed class ScramTestClient(string user, string password, string gs2Header = "n,,", string? clientNonce = null, byte[]? channelBinding = null)
{
    private readonly string _nonce = clientNonce ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));

    public string ClientFirstBare => $"n={user},r={_nonce}";

    public string ClientFirst => gs2Header + ClientFirstBare;

    /// <summary>The server-final message (<c>v=...</c>) a server that knows the key sends, once <see cref="ClientFinal"/> ran.</summary>
    public string ServerSignature { get; private set; } = "";

    /// <summary>The -PLUS client: GS2 header <c>p=tls-server-end-point,,</c> and <paramref name="binding"/> in c=.</summary>
    public static ScramTestClient WithChannelBinding(string user, string password, byte[] binding)
        => new(user, password, "p=tls-server-end-point,,", channelBinding: binding);

    /// <summary>RFC 5929 tls-server-end-point for the test certificates (ECDSA with SHA-256): SHA-256 of the DER.</summary>
    public static byte[] TlsServerEndPoint(X509Certificate2 serverCertificate) => SHA256.HashData(serverCertificate.RawData);

    /// <summary>
    /// The client-final message for <paramref name="serverFirst"/>. c= carries <paramref name="headerInBinding"/> (else
    /// the GS2 header) followed by <paramref name="bindingData"/> (else the client's channel binding).
    /// </summary>
    public string ClientFinal(string serverFirst, byte[]? bindingData = null, string? headerInBinding = null)
    {
        var attributes = serverFirst.Split(',').ToDictionary(a => a[..1], a => a[2..]);
        attributes["r"].Should().StartWith(_nonce, "the server's nonce extends the client's");
        var salt = Convert.FromBase64String(attributes["s"]);
        var iterations = int.Parse(attributes["i"], CultureInfo.InvariantCulture);
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        byte[] cbind = [.. Encoding.UTF8.GetBytes(headerInBinding ?? gs2Header), .. bindingData ?? channelBinding ?? []];
        var withoutProof = $"c={Convert.ToBase64String(cbind)},r={attributes["r"]}";
        var authMessage = Encoding.UTF8.GetBytes(ClientFirstBare + "," + serverFirst + "," + withoutProof);
        var signature = HMACSHA256.HashData(storedKey, authMessage);
        var proof = clientKey.Zip(signature, (a, b) => (byte)(a ^ b)).ToArray();
        ServerSignature = "v=" + Convert.ToBase64String(HMACSHA256.HashData(serverKey, authMessage));
        return withoutProof + ",p=" + Convert.ToBase64String(proof);
    }

    /// <summary>True when <paramref name="serverFinal"/> proves the server knows the key.</summary>
    public bool IsServerFinalValid(string serverFinal) => serverFinal == ServerSignature;
}
