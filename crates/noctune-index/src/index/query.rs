//! Reading the index: statistics, a file's symbols, symbols by name, full-text search.

use std::collections::BTreeMap;

use noctune_core::{Symbol, SymbolKind};
use rusqlite::{Row, params};
use serde::Serialize;

use super::Index;
use crate::error::Result;

/// What the index holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IndexStats {
    /// Files recorded.
    pub files: usize,
    /// Symbols (definitions and chunks).
    pub symbols: usize,
    /// Symbols per kind name (`function`, `method`, `import_block`, ...).
    pub symbols_by_kind: BTreeMap<String, usize>,
    /// Import statements.
    pub imports: usize,
    /// Files per status (`ok`, `syntax_errors`, `not_utf8`, `too_large`).
    pub files_by_status: BTreeMap<String, usize>,
}

/// A symbol found in the index, with its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SymbolHit {
    /// The file, relative to the root, `/`-separated.
    pub path: String,
    /// The symbol.
    pub symbol: Symbol,
}

const SYMBOL_COLUMNS: &str = "f.path, s.name, s.kind, s.start_byte, s.end_byte, s.start_line, \
                              s.end_line, s.signature, s.docstring";

fn kind_from(name: &str) -> SymbolKind {
    match name {
        "function" => SymbolKind::Function,
        "async_function" => SymbolKind::AsyncFunction,
        "class" => SymbolKind::Class,
        "method" => SymbolKind::Method,
        "async_method" => SymbolKind::AsyncMethod,
        "import_block" => SymbolKind::ImportBlock,
        "assignments" => SymbolKind::Assignments,
        "main_block" => SymbolKind::MainBlock,
        _ => SymbolKind::ModuleCode,
    }
}

fn hit(row: &Row<'_>) -> rusqlite::Result<SymbolHit> {
    let kind: String = row.get(2)?;
    let num = |i: usize| -> rusqlite::Result<usize> { Ok(row.get::<_, i64>(i)?.max(0) as usize) };
    Ok(SymbolHit {
        path: row.get(0)?,
        symbol: Symbol {
            name: row.get(1)?,
            kind: kind_from(&kind),
            start_byte: num(3)?,
            end_byte: num(4)?,
            start_line: num(5)?,
            end_line: num(6)?,
            signature: row.get(7)?,
            docstring: row.get(8)?,
        },
    })
}

impl Index {
    /// Counts of files, symbols per kind and files per status.
    pub fn stats(&self) -> Result<IndexStats> {
        let err = self.db_err();
        let count = |sql: &str| -> Result<usize> {
            let n: i64 = self
                .conn
                .query_row(sql, [], |row| row.get(0))
                .map_err(&err)?;
            Ok(n.max(0) as usize)
        };
        let group = |sql: &str| -> Result<BTreeMap<String, usize>> {
            let mut stmt = self.conn.prepare(sql).map_err(&err)?;
            let rows = stmt
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?.max(0) as usize,
                    ))
                })
                .map_err(&err)?;
            rows.collect::<rusqlite::Result<_>>().map_err(&err)
        };
        Ok(IndexStats {
            files: count("SELECT count(*) FROM files")?,
            symbols: count("SELECT count(*) FROM symbols")?,
            symbols_by_kind: group("SELECT kind, count(*) FROM symbols GROUP BY kind")?,
            imports: count("SELECT count(*) FROM imports")?,
            files_by_status: group("SELECT status, count(*) FROM files GROUP BY status")?,
        })
    }

    /// The symbols of one file (path relative to the root), in source order.
    pub fn file_symbols(&self, path: &str) -> Result<Vec<Symbol>> {
        let err = self.db_err();
        let sql = format!(
            "SELECT {SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id \
             WHERE f.path = ?1 ORDER BY s.start_byte, s.end_byte DESC"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(&err)?;
        let rows = stmt.query_map([path], hit).map_err(&err)?;
        rows.map(|r| r.map(|h| h.symbol))
            .collect::<rusqlite::Result<_>>()
            .map_err(&err)
    }

    /// Symbols whose qualified name or short name is exactly `name`.
    pub fn find(&self, name: &str) -> Result<Vec<SymbolHit>> {
        let err = self.db_err();
        // A qualified name ends with its short name, so both cases share `short_name = ?2`,
        // which the `symbols_by_short_name` index answers.
        let short = name.rsplit('.').next().unwrap_or(name);
        let sql = format!(
            "SELECT {SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id \
             WHERE s.short_name = ?2 AND (s.short_name = ?1 OR s.name = ?1) \
             ORDER BY f.path, s.start_byte"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(&err)?;
        let rows = stmt.query_map([name, short], hit).map_err(&err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(&err)
    }

    /// Full-text search over symbol names: every word of `query` must start a part of the
    /// qualified name (`Pars meth` finds `Parser.method`), best matches first. The first search
    /// of an index builds its full-text table (about 0.1 s for 80,000 symbols).
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SymbolHit>> {
        let terms: Vec<String> = query
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|t| !t.is_empty())
            .map(|t| format!("\"{t}\"*"))
            .collect();
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let err = self.db_err();
        super::schema::ensure_fts(&self.conn).map_err(&err)?;
        let sql = format!(
            "SELECT {SYMBOL_COLUMNS} FROM symbols_fts \
             JOIN symbols s ON s.id = symbols_fts.rowid JOIN files f ON f.id = s.file_id \
             WHERE symbols_fts MATCH ?1 ORDER BY rank, length(s.name), f.path LIMIT ?2"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(&err)?;
        let rows = stmt
            .query_map(params![terms.join(" "), limit as i64], hit)
            .map_err(&err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(&err)
    }

    /// Import statements that import `name` from the module of the file at `path` (relative to
    /// the root): `from pkg.util import name`, or relatively `from .util import name`. Sorted
    /// by file and line, at most `limit`.
    pub fn importers(
        &self,
        path: &str,
        name: &str,
        limit: usize,
    ) -> Result<Vec<(String, usize, String)>> {
        let err = self.db_err();
        let stem = path.strip_suffix(".py").unwrap_or(path);
        let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
        let module = stem.replace('/', ".");
        let last = module.rsplit('.').next().unwrap_or(&module).to_owned();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT f.path, i.line, i.text FROM imports i JOIN files f ON f.id = i.file_id \
                 WHERE f.path != ?1 AND (i.module = ?2 OR i.module LIKE '%.' || ?3) \
                 AND (', ' || i.names || ',') LIKE '%, ' || ?4 || ',%' \
                 ORDER BY f.path, i.line LIMIT ?5",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map(params![path, module, last, name, limit as i64], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?.max(0) as usize,
                    row.get::<_, String>(2)?,
                ))
            })
            .map_err(&err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(&err)
    }

    /// Every indexed file, relative to the root, sorted, with its status.
    pub fn files(&self) -> Result<Vec<(String, String)>> {
        let err = self.db_err();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT path, status FROM files ORDER BY path")
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(&err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(&err)
    }
}
