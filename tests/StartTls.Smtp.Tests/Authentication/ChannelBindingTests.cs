using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Tests.Authentication;

public class ChannelBindingTests
{
    [Fact]
    public void Ecdsa_sha256_certificate_binds_with_sha256()
    {
        using var certificate = TestCertificates.IssueServer("mx.test");
        certificate.SignatureAlgorithm.Value.Should().Be("1.2.840.10045.4.3.2");

        ChannelBinding.TlsServerEndPoint(certificate).Should().Equal(SHA256.HashData(certificate.RawData));
    }

    [Fact]
    public void Rsa_sha384_certificate_binds_with_sha384()
    {
        using var certificate = SelfSignedRsa(HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1);
        certificate.SignatureAlgorithm.Value.Should().Be("1.2.840.113549.1.1.12");

        var binding = ChannelBinding.TlsServerEndPoint(certificate);

        binding.Should().HaveCount(48).And.Equal(SHA384.HashData(certificate.RawData));
    }

    [Fact]
    public void Ecdsa_sha512_certificate_binds_with_sha512()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var certificate = new CertificateRequest("CN=mx.test", key, HashAlgorithmName.SHA512)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        ChannelBinding.TlsServerEndPoint(certificate).Should().Equal(SHA512.HashData(certificate.RawData));
    }

    [Theory]
    [InlineData("SHA256", 32)]
    [InlineData("SHA384", 48)]
    [InlineData("SHA512", 64)]
    public void Rsa_pss_certificate_binds_with_the_hash_in_its_parameters(string hash, int length)
    {
        var name = new HashAlgorithmName(hash);
        using var certificate = SelfSignedRsa(name, RSASignaturePadding.Pss);
        certificate.SignatureAlgorithm.Value.Should().Be("1.2.840.113549.1.1.10");

        var binding = ChannelBinding.TlsServerEndPoint(certificate);

        binding.Should().HaveCount(length).And.Equal(CryptographicOperations.HashData(name, certificate.RawData));
    }

    [Fact]
    public void Rsa_sha1_certificate_binds_with_sha256()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=mx.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        // CertificateRequest refuses SHA-1, so sign with a generator that does.
        using var certificate = request.Create(
            new X500DistinguishedName("CN=mx.test"), new Sha1RsaGenerator(key), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), [1]);
        certificate.SignatureAlgorithm.Value.Should().Be("1.2.840.113549.1.1.5");

        ChannelBinding.TlsServerEndPoint(certificate).Should().Equal(SHA256.HashData(certificate.RawData));
    }

    [Fact]
    public void Different_certificates_bind_differently()
    {
        using var a = TestCertificates.IssueServer("mx.test");
        using var b = TestCertificates.IssueServer("mx.test");

        ChannelBinding.TlsServerEndPoint(a).Should().NotEqual(ChannelBinding.TlsServerEndPoint(b));
    }

    // ---- tls-unique ---------------------------------------------------------------------------------------------

    [Fact]
    public async Task Tls_unique_on_tls12_is_the_client_finished_both_sides_agree_on()
    {
        var (server, client) = await HandshakeAsync(SslProtocols.Tls12);
        await using var s = server;
        await using var c = client;

        var serverView = ChannelBinding.TlsUnique(server);
        var clientView = ChannelBinding.TlsUnique(client);

        serverView.Should().NotBeNull().And.HaveCount(12, "TLS 1.2 verify_data is 12 bytes; no SEC_CHANNEL_BINDINGS header or tls-unique: prefix");
        serverView.Should().Equal(clientView, "tls-unique is the first Finished of the handshake: the client's, seen by the server as the peer's");
    }

    [Fact]
    public async Task Tls_unique_is_undefined_on_tls13()
    {
        var (server, client) = await HandshakeAsync(SslProtocols.Tls13);
        await using var s = server;
        await using var c = client;

        ChannelBinding.TlsUnique(server).Should().BeNull("RFC 9266 §3: tls-unique does not exist in TLS 1.3");
        ChannelBinding.TlsUnique(null).Should().BeNull();
    }

    [Fact]
    public async Task Different_tls12_connections_have_different_tls_unique()
    {
        var (server1, client1) = await HandshakeAsync(SslProtocols.Tls12);
        var (server2, client2) = await HandshakeAsync(SslProtocols.Tls12);
        await using var s1 = server1;
        await using var c1 = client1;
        await using var s2 = server2;
        await using var c2 = client2;

        ChannelBinding.TlsUnique(server1).Should().NotEqual(ChannelBinding.TlsUnique(server2));
    }

    [Fact]
    public void Application_data_is_read_from_the_sec_channel_bindings_header_and_the_prefix_dropped()
    {
        byte[] data = [.. "tls-unique:"u8, 1, 2, 3];
        var raw = new byte[32 + data.Length + 4];
        BitConverter.TryWriteBytes(raw.AsSpan(24), (uint)data.Length);
        BitConverter.TryWriteBytes(raw.AsSpan(28), 32u);
        data.CopyTo(raw, 32);

        ChannelBinding.ApplicationData(raw, "tls-unique:"u8).Should().Equal(1, 2, 3);
        ChannelBinding.ApplicationData(raw, "other:"u8).Should().Equal(data, "an unknown prefix is left alone");
    }

    [Theory]
    [InlineData(31, 0, 32)] // shorter than the header
    [InlineData(40, 9, 32)] // data runs past the end
    [InlineData(40, 4, 8)] // data inside the header
    [InlineData(40, 0, 32)] // no data
    [InlineData(40, 8, uint.MaxValue)] // offset + length overflows
    public void Application_data_of_a_malformed_block_is_null(int size, uint length, uint offset)
    {
        var raw = new byte[size];
        if (size >= 32)
        {
            BitConverter.TryWriteBytes(raw.AsSpan(24), length);
            BitConverter.TryWriteBytes(raw.AsSpan(28), offset);
        }

        ChannelBinding.ApplicationData(raw, "tls-unique:"u8).Should().BeNull();
    }

    /// <summary>A server and a client SslStream over loopback, handshaken with <paramref name="protocol"/> only.</summary>
    private static async Task<(SslStream Server, SslStream Client)> HandshakeAsync(SslProtocols protocol)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var clientSocket = new TcpClient(); // the client SslStream owns its NetworkStream, which owns the socket
        var accept = listener.AcceptTcpClientAsync();
        await clientSocket.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var serverSocket = await accept;
        var server = new SslStream(serverSocket.GetStream(), leaveInnerStreamOpen: false);
        var client = new SslStream(clientSocket.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) => TestCertificates.ValidateAgainstCa(certificate, "mx.test"));
        var serverHandshake = server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificate = TlsTestKit.MxCertificate,
            EnabledSslProtocols = protocol,
        });
        await client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "mx.test",
            EnabledSslProtocols = protocol,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        }).WaitAsync(TimeSpan.FromSeconds(10));
        await serverHandshake.WaitAsync(TimeSpan.FromSeconds(10));
        server.SslProtocol.Should().Be(protocol);
        return (server, client);
    }

    private static X509Certificate2 SelfSignedRsa(HashAlgorithmName hash, RSASignaturePadding padding)
    {
        using var key = RSA.Create(2048);
        return new CertificateRequest("CN=mx.test", key, hash, padding)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>Signs with sha1WithRSAEncryption, which the built-in generator no longer offers.</summary>
    private sealed class Sha1RsaGenerator(RSA key) : X509SignatureGenerator
    {
        private static readonly byte[] AlgorithmIdentifier = Convert.FromHexString("300D06092A864886F70D0101050500");

        public override byte[] GetSignatureAlgorithmIdentifier(HashAlgorithmName hashAlgorithm) => AlgorithmIdentifier;

        public override byte[] SignData(byte[] data, HashAlgorithmName hashAlgorithm)
            => key.SignData(data, HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1);

        protected override PublicKey BuildPublicKey() => new(key);
    }
}
