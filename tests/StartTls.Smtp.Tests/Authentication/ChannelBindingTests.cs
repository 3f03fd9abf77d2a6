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
