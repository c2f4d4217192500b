//! SQLite's C API (the `libsqlite3-sys` that sqlx links) behind a small safe interface, for
//! the two places that go around sqlx because it costs more than the work: the store's
//! writer (statements prepared once, text bound without a copy) and the audit's scan of the
//! whole log (column bytes borrowed, no allocation per row). A connection closes when dropped;
//! a row's bytes live only while the row is being looked at.

use std::ffi::{CStr, CString, c_char, c_int};
use std::marker::PhantomData;
use std::path::Path;
use std::ptr::{self, NonNull};

use libsqlite3_sys as ffi;

use super::SqliteError;

/// A connection, used by one thread at a time.
pub struct Conn {
    db: NonNull<ffi::sqlite3>,
}

// SAFETY: SQLite connections may move between threads; this one is only ever used by the
// thread that owns it (it is opened with SQLITE_OPEN_NOMUTEX, so never shared).
unsafe impl Send for Conn {}

/// The error of the last failed call on `db`.
fn last_error(db: *mut ffi::sqlite3) -> SqliteError {
    // SAFETY: `db` is a live connection handle; errmsg returns a NUL-terminated string
    // owned by SQLite, valid until the next call on the connection, copied here at once.
    unsafe {
        let code = ffi::sqlite3_extended_errcode(db);
        let msg = ffi::sqlite3_errmsg(db);
        let message = if msg.is_null() {
            String::new()
        } else {
            CStr::from_ptr(msg).to_string_lossy().into_owned()
        };
        SqliteError { code, message }
    }
}

fn misuse(message: &str) -> SqliteError {
    SqliteError {
        code: ffi::SQLITE_MISUSE,
        message: message.to_string(),
    }
}

impl Conn {
    /// Opens an existing or new database file for reading and writing.
    pub fn open(path: &Path, busy_ms: i32) -> Result<Conn, SqliteError> {
        let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE | ffi::SQLITE_OPEN_NOMUTEX;
        Conn::open_with(path, busy_ms, flags)
    }

    /// Opens an existing database file for reading only.
    pub fn open_read_only(path: &Path, busy_ms: i32) -> Result<Conn, SqliteError> {
        Conn::open_with(
            path,
            busy_ms,
            ffi::SQLITE_OPEN_READONLY | ffi::SQLITE_OPEN_NOMUTEX,
        )
    }

    fn open_with(path: &Path, busy_ms: i32, flags: c_int) -> Result<Conn, SqliteError> {
        let name = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| misuse("the database path contains a NUL byte"))?;
        let mut db: *mut ffi::sqlite3 = ptr::null_mut();
        // SAFETY: valid NUL-terminated name and out-pointer; a handle, if one is returned,
        // is closed on every path below.
        let rc = unsafe { ffi::sqlite3_open_v2(name.as_ptr(), &mut db, flags, ptr::null()) };
        let Some(handle) = NonNull::new(db) else {
            return Err(SqliteError {
                code: rc,
                message: "out of memory opening the database".into(),
            });
        };
        let conn = Conn { db: handle };
        if rc != ffi::SQLITE_OK {
            return Err(last_error(conn.db.as_ptr()));
        }
        // SAFETY: a live handle.
        unsafe {
            ffi::sqlite3_extended_result_codes(conn.db.as_ptr(), 1);
            ffi::sqlite3_busy_timeout(conn.db.as_ptr(), busy_ms);
        }
        Ok(conn)
    }

    /// Runs SQL text (one or more statements) that returns no rows.
    pub fn exec(&self, sql: &str) -> Result<(), SqliteError> {
        let text = CString::new(sql).map_err(|_| misuse("SQL text with a NUL byte"))?;
        // SAFETY: a live handle, NUL-terminated text, no callback.
        let rc = unsafe {
            ffi::sqlite3_exec(
                self.db.as_ptr(),
                text.as_ptr(),
                None,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(last_error(self.db.as_ptr()))
        }
    }

    /// Prepares one statement, kept for reuse.
    pub fn prepare(&self, sql: &str) -> Result<Stmt, SqliteError> {
        let len = c_int::try_from(sql.len()).map_err(|_| misuse("SQL text too long"))?;
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        let mut tail: *const c_char = ptr::null();
        // SAFETY: the text is valid for `len` bytes (no NUL needed with a length).
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                self.db.as_ptr(),
                sql.as_ptr().cast::<c_char>(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                &mut tail,
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(last_error(self.db.as_ptr()));
        }
        let Some(stmt) = NonNull::new(stmt) else {
            return Err(misuse("no statement in the SQL text"));
        };
        // Owned from here: finalized on every path, the error ones included.
        let mut stmt = Stmt {
            stmt,
            db: self.db,
            order: Vec::new(),
        };
        // SAFETY: a freshly prepared statement.
        let count = unsafe { ffi::sqlite3_bind_parameter_count(stmt.stmt.as_ptr()) };
        let mut order = Vec::new();
        for i in 1..=count {
            // SAFETY: an index within the parameters; the name is NUL-terminated and
            // owned by the statement.
            let name = unsafe { ffi::sqlite3_bind_parameter_name(stmt.stmt.as_ptr(), i) };
            let position = if name.is_null() {
                // An anonymous `?`: numbered in order.
                usize::try_from(i - 1).unwrap_or(0)
            } else {
                // `?NNN` or `$NNN`: SQLite numbers parameters by first appearance, which
                // for `$NNN` need not be NNN, so the value is found by its number.
                // SAFETY: see above.
                let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
                name.get(1..)
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| n.checked_sub(1))
                    .ok_or_else(|| misuse("parameters must be ?, ?NNN or $NNN"))?
            };
            order.push(position);
        }
        stmt.order = order;
        Ok(stmt)
    }

    /// Inside an explicit transaction.
    pub fn in_transaction(&self) -> bool {
        // SAFETY: a live handle.
        unsafe { ffi::sqlite3_get_autocommit(self.db.as_ptr()) == 0 }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // SAFETY: the handle is live. Its statements belong to the writer, which finalizes
        // them first (were one left, the close would fail and the handle leak, harmlessly).
        unsafe {
            ffi::sqlite3_close(self.db.as_ptr());
        }
    }
}

/// A value to bind. Text is bound without a copy: it only has to outlive the step.
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    Text(&'a str),
    Int(i64),
    Null,
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Arg::Null, Arg::Text)
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Arg::Null, Arg::Int)
    }
}

/// Flags are 0/1, as sqlx stores them.
impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Int(i64::from(v))
    }
}

/// A prepared statement of a [`Conn`].
pub struct Stmt {
    stmt: NonNull<ffi::sqlite3_stmt>,
    db: NonNull<ffi::sqlite3>,
    /// For each parameter, in SQLite's numbering, the index of its value.
    order: Vec<usize>,
}

// SAFETY: as for `Conn`: moved with its connection into one thread and used only there.
unsafe impl Send for Stmt {}

/// The current row of a query.
pub struct Row<'s> {
    stmt: *mut ffi::sqlite3_stmt,
    _stmt: PhantomData<&'s mut Stmt>,
}

impl Row<'_> {
    pub fn int(&self, col: c_int) -> i64 {
        // SAFETY: the statement has a row (step returned SQLITE_ROW); an out-of-range column
        // reads as 0.
        unsafe { ffi::sqlite3_column_int64(self.stmt, col) }
    }

    /// `None` for NULL.
    pub fn opt_int(&self, col: c_int) -> Option<i64> {
        // SAFETY: as above.
        let kind = unsafe { ffi::sqlite3_column_type(self.stmt, col) };
        (kind != ffi::SQLITE_NULL).then(|| self.int(col))
    }

    /// `None` for NULL.
    pub fn opt_text(&self, col: c_int) -> Option<String> {
        // SAFETY: as above.
        let kind = unsafe { ffi::sqlite3_column_type(self.stmt, col) };
        (kind != ffi::SQLITE_NULL).then(|| self.text(col))
    }

    /// The column's text as bytes, borrowed: valid while this row is being looked at (the
    /// statement cannot step while `&self` is borrowed). NULL reads as empty.
    pub fn bytes(&self, col: c_int) -> &[u8] {
        // SAFETY: the statement has a row. `sqlite3_column_text` first, then
        // `sqlite3_column_bytes`, is the order SQLite documents for a stable pointer; the bytes
        // stay valid until the statement steps, resets or is finalized, none of which can
        // happen while the row is borrowed.
        unsafe {
            let p = ffi::sqlite3_column_text(self.stmt, col);
            let n = usize::try_from(ffi::sqlite3_column_bytes(self.stmt, col)).unwrap_or(0);
            if p.is_null() || n == 0 {
                &[]
            } else {
                std::slice::from_raw_parts(p, n)
            }
        }
    }

    pub fn text(&self, col: c_int) -> String {
        // SAFETY: as above; the pointer and length stay valid until the next step or
        // reset, and are copied at once. NULL reads as an empty string.
        unsafe {
            let p = ffi::sqlite3_column_text(self.stmt, col);
            let n = usize::try_from(ffi::sqlite3_column_bytes(self.stmt, col)).unwrap_or(0);
            if p.is_null() {
                String::new()
            } else {
                String::from_utf8_lossy(std::slice::from_raw_parts(p, n)).into_owned()
            }
        }
    }
}

impl Stmt {
    /// Binds every parameter. Each run binds all of them, so no value of an earlier run
    /// (whose text may be gone) is ever read.
    fn bind(&mut self, args: &[Arg<'_>]) -> Result<(), SqliteError> {
        if args.len() != self.order.len() {
            return Err(misuse("wrong number of values for the statement"));
        }
        let stmt = self.stmt.as_ptr();
        for (i, &at) in self.order.iter().enumerate() {
            let a = args
                .get(at)
                .ok_or_else(|| misuse("a parameter has no value"))?;
            let idx = c_int::try_from(i + 1).map_err(|_| misuse("too many values"))?;
            // SAFETY: a live statement and an index within its parameters. Text is bound
            // SQLITE_STATIC: SQLite reads it during the step that follows, while `args`
            // (borrowed for the whole run) is alive.
            let rc = unsafe {
                match a {
                    Arg::Text(s) => ffi::sqlite3_bind_text64(
                        stmt,
                        idx,
                        s.as_ptr().cast::<c_char>(),
                        s.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Arg::Int(v) => ffi::sqlite3_bind_int64(stmt, idx, *v),
                    Arg::Null => ffi::sqlite3_bind_null(stmt, idx),
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(last_error(self.db.as_ptr()));
            }
        }
        Ok(())
    }

    /// Runs a statement that returns no rows; the number of rows it changed.
    pub fn execute(&mut self, args: &[Arg<'_>]) -> Result<u64, SqliteError> {
        self.query(args, |_| {}).map(|_| {
            // SAFETY: a live handle.
            let n = unsafe { ffi::sqlite3_changes64(self.db.as_ptr()) };
            u64::try_from(n).unwrap_or(0)
        })
    }

    /// Runs a query, calling `f` on each row.
    pub fn query(
        &mut self,
        args: &[Arg<'_>],
        mut f: impl FnMut(&Row<'_>),
    ) -> Result<(), SqliteError> {
        self.query_while(args, |row| {
            f(row);
            Ok::<bool, std::convert::Infallible>(true)
        })?
        .map_err(|never| match never {})
    }

    /// Runs a query, calling `f` on each row while it answers `Ok(true)`: `Ok(false)` stops
    /// early, an error of `f` stops and is handed back inside.
    pub fn query_while<E>(
        &mut self,
        args: &[Arg<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<bool, E>,
    ) -> Result<Result<(), E>, SqliteError> {
        let result = self.bind(args).and_then(|()| {
            let stmt = self.stmt.as_ptr();
            loop {
                // SAFETY: a live statement with every parameter bound.
                match unsafe { ffi::sqlite3_step(stmt) } {
                    ffi::SQLITE_ROW => {
                        let row = Row {
                            stmt,
                            _stmt: PhantomData,
                        };
                        match f(&row) {
                            Ok(true) => {}
                            Ok(false) => return Ok(Ok(())),
                            Err(e) => return Ok(Err(e)),
                        }
                    }
                    ffi::SQLITE_DONE => return Ok(Ok(())),
                    _ => return Err(last_error(self.db.as_ptr())),
                }
            }
        });
        // Reset at once: a statement left mid-query would hold its read transaction open.
        // SAFETY: a live statement; reset repeats the step's error, already taken above.
        unsafe {
            ffi::sqlite3_reset(self.stmt.as_ptr());
        }
        result
    }
}

impl Drop for Stmt {
    fn drop(&mut self) {
        // SAFETY: a live statement, finalized once.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}
