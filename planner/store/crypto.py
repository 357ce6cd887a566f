"""ID numbers at rest: the data key, deterministic encryption and the keyed lookup hash.

One master key per store (32 random bytes): the environment variable
``COVERPLAN_DATA_KEY`` (base64) when set, else for a SQLite store the key file beside
the database (``<db file>.key``, created with mode 0600 at first use); a PostgreSQL
store without the variable is refused. Two sub-keys are derived from it by HKDF-SHA256:

- the encryption key (AES-256-SIV, deterministic): ``id_number`` columns hold
  ``e1:`` + base64url(SIV tag + ciphertext). Equal IDs give equal ciphertexts, so
  equality filters and the unique constraint keep working, and the ciphertext reveals
  no more than the lookup hash already does (which rows share an ID);
- the lookup key (HMAC-SHA256): ``residents.id_hash`` = base64url of the HMAC of the
  normalised ID, unique, what imports match existing residents by. Base64url rather
  than hex: 64 hex characters often contain 18 digits in a row, which every scan for
  ID-number patterns would then report.

The key never appears in a message or a log; losing it loses the ID numbers.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, Engine, String, inspect, text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from planner.errors import StoreError

ENV_VAR = "COVERPLAN_DATA_KEY"
KEY_FILE_SUFFIX = ".key"
MASTER_KEY_BYTES = 32
CIPHER_PREFIX = "e1:"
# Stored widths: "e1:" + base64url(16-byte tag + 18 bytes) = 49; base64url(32 bytes) = 43.
CIPHER_COLUMN_LENGTH = 64
HASH_COLUMN_LENGTH = 64
META_KEY_CHECK = "data_key_check"
_SIV_KEY_BYTES = 64  # AES-256-SIV
_MAC_KEY_BYTES = 32
_AAD = b"coverplan:id_number"
_CHECK_MESSAGE = b"coverplan:data-key-check"
_DIALECT_ATTR = "coverplan_key_ring"
# Set in ``Connection.info`` by migration 0006 when it encrypted plaintext IDs: the
# store then rewrites its SQLite file so no free page keeps them.
SCRUB_FLAG = "coverplan_scrub_plaintext"
LEAD_KEY_PREFIX = "id:"
_RECORD_PREFIX = b"coverplan record v1|"  # domain separation from the ID lookup hash


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def normalise_id(number: str) -> str:
    """An ID number as hashed and encrypted: no surrounding blanks, ``x`` as ``X``."""
    return number.strip().upper()


@dataclass(frozen=True)
class DataKeys:
    """The two sub-keys of a store's data key, and where the key came from.

    ``source`` names the environment variable or the key file (never the key).
    """

    source: str
    enc_key: bytes = field(repr=False)
    mac_key: bytes = field(repr=False)

    @classmethod
    def derive(cls, master: bytes, *, source: str) -> DataKeys:
        """Derive the encryption and lookup keys from ``master`` (HKDF-SHA256)."""
        okm = HKDF(
            algorithm=hashes.SHA256(),
            length=_SIV_KEY_BYTES + _MAC_KEY_BYTES,
            salt=b"coverplan-data-key-v1",
            info=b"coverplan id_number: aes-siv encryption | hmac-sha256 lookup",
        ).derive(master)
        return cls(source, okm[:_SIV_KEY_BYTES], okm[_SIV_KEY_BYTES:])

    @functools.cached_property
    def _siv(self) -> AESSIV:
        return AESSIV(self.enc_key)

    def encrypt(self, number: str) -> str:
        """The stored form of an ID number, exactly as given (deterministic: equal IDs,
        equal text; the import has normalised it already)."""
        sealed = self._siv.encrypt(number.encode("utf-8"), [_AAD])
        return CIPHER_PREFIX + _b64(sealed)

    def decrypt(self, stored: str) -> str:
        """The ID number of a stored value.

        Raises
        ------
        StoreError
            When the value is not one this key encrypted (another key, or plain text).
        """
        if not stored.startswith(CIPHER_PREFIX):
            raise StoreError(
                "数据库中有未加密的身份证号；请运行任一 coverplan 命令让数据库完成升级（迁移 0006）"
            )
        try:
            plain = self._siv.decrypt(_unb64(stored[len(CIPHER_PREFIX) :]), [_AAD])
        except (InvalidTag, ValueError, binascii.Error):
            raise StoreError(
                f"身份证号无法用当前数据密钥（{self.source}）解密：密钥与数据库不符；"
                f"请使用建库时的密钥文件或环境变量 {ENV_VAR}"
            ) from None
        return plain.decode("utf-8")

    def id_hash(self, number: str) -> str:
        """The keyed lookup hash of an ID number (HMAC-SHA256, base64url, 43 characters)."""
        digest = hmac.new(self.mac_key, normalise_id(number).encode("utf-8"), hashlib.sha256)
        return _b64(digest.digest())

    def record_hash(self, payload: str) -> str:
        """The keyed content hash of a stored row's source record (HMAC-SHA256, hex).

        Keyed, so a hash of a resident's record (which holds the ID number and the
        name) cannot be confirmed by guessing the record without the data key.
        """
        digest = hmac.new(self.mac_key, _RECORD_PREFIX + payload.encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()

    def lead_key(self, number: str) -> str:
        """The natural key of a lead known by its ID number (never the ID itself)."""
        return LEAD_KEY_PREFIX + self.id_hash(number)

    def check_value(self) -> str:
        """A value stored in the meta table that tells whether a key is the store's."""
        return _b64(hmac.new(self.mac_key, _CHECK_MESSAGE, hashlib.sha256).digest())


def _from_env(value: str) -> DataKeys:
    try:
        master = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        master = b""
    if len(master) < MASTER_KEY_BYTES:
        raise StoreError(
            f"环境变量 {ENV_VAR} 不是有效的数据密钥：应为至少 {MASTER_KEY_BYTES} 字节随机数的 "
            'base64 编码，可用 python -c "import base64,os;'
            'print(base64.b64encode(os.urandom(32)).decode())" 生成'
        )
    return DataKeys.derive(master, source=f"环境变量 {ENV_VAR}")


def key_file_for(sqlite_path: Path) -> Path:
    """The key file of a SQLite store: ``<db file>.key`` beside it."""
    return sqlite_path.with_name(sqlite_path.name + KEY_FILE_SUFFIX)


def _read_key_file(path: Path) -> DataKeys:
    try:
        master = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
    except (OSError, UnicodeDecodeError, binascii.Error, ValueError):
        master = b""
    if len(master) < MASTER_KEY_BYTES:
        raise StoreError(
            f"密钥文件 {path} 无法读取或内容无效；请从备份恢复该文件，"
            f"或设置环境变量 {ENV_VAR} 为建库时的密钥"
        )
    return DataKeys.derive(master, source=f"密钥文件 {path}")


def _create_key_file(path: Path) -> None:
    """Write a new random key to ``path`` (mode 0600); keep the file another process won."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(base64.b64encode(secrets.token_bytes(MASTER_KEY_BYTES)).decode("ascii") + "\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.link(tmp, path)  # atomic: never overwrites
    finally:
        tmp.unlink(missing_ok=True)


class KeyRing:
    """Where one store's data key comes from; resolves it once, on first need.

    Parameters
    ----------
    sqlite_path
        The SQLite database file, or None (in-memory SQLite, or another database).
    is_sqlite
        Whether the store is SQLite (an in-memory one gets a key for the process).
    display_url
        The store's URL without password, for messages.
    """

    def __init__(self, *, sqlite_path: Path | None, is_sqlite: bool, display_url: str) -> None:
        self.sqlite_path = sqlite_path
        self.is_sqlite = is_sqlite
        self.display_url = display_url
        self._keys: DataKeys | None = None

    @property
    def key_file(self) -> Path | None:
        """The key file this store uses when ``COVERPLAN_DATA_KEY`` is unset."""
        return key_file_for(self.sqlite_path) if self.sqlite_path is not None else None

    def keys(self, *, create: bool = True) -> DataKeys:
        """The store's data keys.

        Parameters
        ----------
        create
            Whether a missing key file of a SQLite store may be created (False when
            the store already holds encrypted IDs: a new key could not read them).

        Raises
        ------
        StoreError
            When the variable is invalid, the key file is unreadable or missing
            where it may not be created, or a PostgreSQL store has no variable.
        """
        if self._keys is None:
            self._keys = self._resolve(create=create)
        return self._keys

    def _resolve(self, *, create: bool) -> DataKeys:
        env = os.environ.get(ENV_VAR)
        if env:
            return _from_env(env)
        path = self.key_file
        if path is not None:
            if not path.exists():
                if not create:
                    raise StoreError(
                        f"数据库 {self.display_url} 中的身份证号已加密，但密钥文件 {path} 不存在；"
                        f"请从备份恢复该文件，或设置环境变量 {ENV_VAR} 为建库时的密钥"
                    )
                _create_key_file(path)
            return _read_key_file(path)
        if self.is_sqlite:  # in memory: the data lives as long as the process
            master = secrets.token_bytes(MASTER_KEY_BYTES)
            return DataKeys.derive(master, source="内存数据库临时密钥")
        raise StoreError(
            f"数据库 {self.display_url} 需要数据密钥以加密身份证号：请设置环境变量 {ENV_VAR}"
            f"（至少 {MASTER_KEY_BYTES} 字节随机数的 base64 编码，可用 python -c "
            '"import base64,os;print(base64.b64encode(os.urandom(32)).decode())" 生成），'
            "并与数据库备份分开妥善保存；密钥丢失则身份证号无法恢复"
        )


def _stored_check(conn: Connection) -> str | None:
    """The key check value the store holds (None: a new store, or one from before 0006)."""
    if not inspect(conn).has_table("meta"):
        return None
    q = text("SELECT value FROM meta WHERE key = :key")
    value = conn.execute(q, {"key": META_KEY_CHECK}).scalar()
    return None if value is None else str(value)


def resolve_before_migrating(ring: KeyRing, conn: Connection) -> None:
    """Resolve a store's data key before migrating it; a missing key file is made only
    for a store that holds no encrypted ID yet (no key check value)."""
    ring.keys(create=_stored_check(conn) is None)


def record_or_check(ring: KeyRing, conn: Connection) -> None:
    """After migrating: record the key check value, or refuse a key that is not the store's.

    Raises
    ------
    StoreError
        When the store's check value was made by another key.
    """
    keys = ring.keys()
    stored = _stored_check(conn)
    if stored is None:
        conn.execute(
            text("INSERT INTO meta (key, value) VALUES (:key, :value)"),
            {"key": META_KEY_CHECK, "value": keys.check_value()},
        )
    elif not hmac.compare_digest(stored, keys.check_value()):
        raise StoreError(
            f"数据密钥（{keys.source}）与数据库 {ring.display_url} 不符，无法读出身份证号；"
            f"请使用建库时的密钥文件，或设置环境变量 {ENV_VAR} 为建库时的密钥"
        )


def scrub_sqlite_file(engine: Engine) -> None:
    """After encrypting plaintext IDs: rewrite the SQLite file (VACUUM) and empty the WAL,
    so that no free page or old WAL frame keeps a plaintext ID number."""
    raw = engine.raw_connection()  # autocommit (isolation_level None): VACUUM may run
    try:
        cur = raw.cursor()
        cur.execute("VACUUM")
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.close()
    finally:
        raw.close()


def attach(dialect: Dialect, ring: KeyRing) -> None:
    """Give an engine's dialect its store's key ring (read by the column types)."""
    setattr(dialect, _DIALECT_ATTR, ring)


def ring_of(dialect: Dialect) -> KeyRing:
    """The key ring attached to ``dialect`` by :func:`attach`.

    Raises
    ------
    StoreError
        When the engine was not made by :class:`planner.store.core.Store`.
    """
    ring = getattr(dialect, _DIALECT_ATTR, None)
    if not isinstance(ring, KeyRing):
        raise StoreError("该数据库连接没有数据密钥；请通过 coverplan 打开数据库")
    return ring


class EncryptedIdNumber(TypeDecorator[str]):
    """An ID number column stored encrypted (:meth:`DataKeys.encrypt`), read back plain."""

    impl = String(CIPHER_COLUMN_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return ring_of(dialect).keys().encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return ring_of(dialect).keys().decrypt(str(value))


def id_hash_default(context: Any) -> str | None:
    """Column default of ``residents.id_hash``: the lookup hash of the row's ID number."""
    number = context.get_current_parameters().get("id_number")
    if number is None:
        return None
    return ring_of(context.dialect).keys().id_hash(str(number))
