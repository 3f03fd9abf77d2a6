using System.Globalization;
using Microsoft.Data.Sqlite;

namespace StartTls.Smtp.MailCatcher.Storage;

/// <summary>
/// The SQLite file that keeps the caught messages: one row per message with the searchable summary and the raw
/// bytes. Only the newest <see cref="CatcherOptions.Keep"/> rows are kept; older ones go in the transaction that adds
/// a new one. A connection per call (pooled), so concurrent SMTP sessions and web requests never share one.
/// </summary>
internal sealed class MessageDatabase
{
    // Lists are stored one entry per line: a decoded mailbox is unfolded, so it never contains a line break.
    private const char ListSeparator = '\n';

    private const string SummaryColumns = "id, received, envelope_from, envelope_to, from_header, to_header, subject, date, size, parse_error";

    private readonly string _connectionString;
    private readonly int _keep;

    /// <summary>Creates the database for <paramref name="options"/>; call <see cref="Initialize"/> before use.</summary>
    /// <param name="options">The catcher's options (database path, how many to keep).</param>
    public MessageDatabase(CatcherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Path = System.IO.Path.GetFullPath(options.DatabasePath);
        _keep = options.Keep;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>The database file's full path.</summary>
    public string Path { get; }

    /// <summary>Creates the file and its table if needed, and trims it to the configured size.</summary>
    public void Initialize()
    {
        if (System.IO.Path.GetDirectoryName(Path) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS messages (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                received TEXT NOT NULL,
                envelope_from TEXT NOT NULL,
                envelope_to TEXT NOT NULL,
                from_header TEXT NOT NULL,
                to_header TEXT NOT NULL,
                subject TEXT NOT NULL,
                date TEXT NULL,
                size INTEGER NOT NULL,
                parse_error TEXT NULL,
                raw BLOB NOT NULL);
            """;
        command.ExecuteNonQuery();
        using var transaction = connection.BeginTransaction();
        Trim(connection, transaction);
        transaction.Commit();
    }

    /// <summary>Adds a message and drops the oldest beyond the bound, in one transaction; returns once it is committed.</summary>
    /// <param name="record">The summary (its <see cref="MessageRecord.Id"/> is ignored).</param>
    /// <param name="raw">The raw message.</param>
    /// <param name="cancellationToken">Cancels before the commit.</param>
    /// <returns>The new message's id.</returns>
    public async Task<long> InsertAsync(MessageRecord record, ReadOnlyMemory<byte> raw, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await using var connection = Open();
        await using var transaction = connection.BeginTransaction();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO messages (received, envelope_from, envelope_to, from_header, to_header, subject, date, size, parse_error, raw)
            VALUES ($received, $envelope_from, $envelope_to, $from_header, $to_header, $subject, $date, $size, $parse_error, $raw)
            RETURNING id;
            """;
        command.Parameters.AddWithValue("$received", record.Received.ToString("O", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$envelope_from", record.EnvelopeFrom);
        command.Parameters.AddWithValue("$envelope_to", string.Join(ListSeparator, record.EnvelopeTo));
        command.Parameters.AddWithValue("$from_header", record.From);
        command.Parameters.AddWithValue("$to_header", string.Join(ListSeparator, record.To));
        command.Parameters.AddWithValue("$subject", record.Subject);
        command.Parameters.AddWithValue("$date", record.Date is { } date ? date.ToString("O", CultureInfo.InvariantCulture) : DBNull.Value);
        command.Parameters.AddWithValue("$size", record.Size);
        command.Parameters.AddWithValue("$parse_error", (object?)record.ParseError ?? DBNull.Value);
        command.Parameters.Add("$raw", SqliteType.Blob).Value = raw.ToArray();
        var id = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        Trim(connection, transaction);
        cancellationToken.ThrowIfCancellationRequested();
        await transaction.CommitAsync(CancellationToken.None); // Past this point the message is kept: never cancelled half-way.
        return id;
    }

    /// <summary>The messages, newest first; those matching <paramref name="query"/> in subject, sender or recipients when given.</summary>
    /// <param name="query">The text to look for (case-insensitive for ASCII), or null for all.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The summaries.</returns>
    public async Task<List<MessageRecord>> ListAsync(string? query, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        if (string.IsNullOrWhiteSpace(query))
        {
            command.CommandText = $"SELECT {SummaryColumns} FROM messages ORDER BY id DESC;";
        }
        else
        {
            command.CommandText = $"""
                SELECT {SummaryColumns} FROM messages
                WHERE subject LIKE $q ESCAPE '\' OR from_header LIKE $q ESCAPE '\' OR envelope_from LIKE $q ESCAPE '\'
                   OR to_header LIKE $q ESCAPE '\' OR envelope_to LIKE $q ESCAPE '\'
                ORDER BY id DESC;
                """;
            var escaped = query.Trim().Replace(@"\", @"\\", StringComparison.Ordinal)
                .Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);
            command.Parameters.AddWithValue("$q", "%" + escaped + "%");
        }

        var records = new List<MessageRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(ReadRecord(reader));
        }

        return records;
    }

    /// <summary>One message's summary and raw bytes, or null when there is no such message.</summary>
    /// <param name="id">The message id.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The message, or null.</returns>
    public async Task<(MessageRecord Record, byte[] Raw)?> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {SummaryColumns}, raw FROM messages WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return (ReadRecord(reader), (byte[])reader.GetValue(10));
    }

    /// <summary>Deletes one message.</summary>
    /// <param name="id">The message id.</param>
    /// <param name="cancellationToken">Cancels the statement.</param>
    /// <returns>True when it existed.</returns>
    public async Task<bool> DeleteAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM messages WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>Deletes every message.</summary>
    /// <param name="cancellationToken">Cancels the statement.</param>
    /// <returns>How many were deleted.</returns>
    public async Task<int> DeleteAllAsync(CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM messages;";
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static MessageRecord ReadRecord(SqliteDataReader reader) => new(
        reader.GetInt64(0),
        DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
        reader.GetString(2),
        SplitList(reader.GetString(3)),
        reader.GetString(4),
        SplitList(reader.GetString(5)),
        reader.GetString(6),
        reader.IsDBNull(7) ? null : DateTimeOffset.Parse(reader.GetString(7), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
        reader.GetInt64(8),
        reader.IsDBNull(9) ? null : reader.GetString(9));

    private static string[] SplitList(string value)
        => value.Length == 0 ? [] : value.Split(ListSeparator);

    private void Trim(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "DELETE FROM messages WHERE id <= (SELECT id FROM messages ORDER BY id DESC LIMIT 1 OFFSET $keep);";
        command.Parameters.AddWithValue("$keep", _keep);
        command.ExecuteNonQuery();
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();

        // FULL: a commit is on disk before the 250 reply goes out, in WAL mode too.
        command.CommandText = "PRAGMA synchronous = FULL;";
        command.ExecuteNonQuery();
        return connection;
    }
}
