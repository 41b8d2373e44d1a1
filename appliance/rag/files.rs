//! The facade's files: uploads (OpenAI `/v1/files`) stored as blobs, owned by their
//! uploader, readable by the uploader's department and by readers of a collection holding
//! them; deleting one removes its documents everywhere.

use super::{new_id, now, sha256_hex, Caller, Rag, RagError, StoredFile};

impl Rag {
    /// Stores an uploaded file as a blob owned by the caller.
    ///
    /// # Errors
    /// [`RagError::Invalid`] for an empty name or a file over `max_file_bytes`;
    /// [`RagError::Store`].
    pub fn put_file(&self, caller: &Caller, filename: &str, purpose: &str, data: &[u8]) -> Result<StoredFile, RagError> {
        let filename = valid_filename(filename)?;
        if data.len() as u64 > self.settings.max_file_bytes {
            return Err(RagError::Invalid(format!("file: {} bytes is over the limit of {} bytes ([rag] max_file_bytes)", data.len(), self.settings.max_file_bytes)));
        }
        let f = StoredFile {
            id: new_id("file-"),
            filename,
            bytes: data.len() as u64,
            created_at: now(),
            purpose: purpose.to_string(),
            owner_user: caller.user.clone(),
            owner_department: caller.department.clone(),
            sha256: sha256_hex(data),
        };
        self.store.put_file(&f, data)?;
        Ok(f)
    }

    /// Whether the caller may read a file: admin, uploader, the uploader's department, or a
    /// reader of a collection that holds the file as a document.
    fn may_read_file(&self, caller: &Caller, f: &StoredFile) -> Result<bool, RagError> {
        if caller.admin || f.owner_user == caller.user || (!caller.department.is_empty() && f.owner_department == caller.department) {
            return Ok(true);
        }
        for cid in self.store.collections_of_file(&f.id)? {
            if let Some(c) = self.store.collection(&cid)? {
                if caller.may_read(&c) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Files the caller may read, oldest first.
    ///
    /// # Errors
    /// [`RagError::Store`].
    pub fn list_files(&self, caller: &Caller) -> Result<Vec<StoredFile>, RagError> {
        let mut out = Vec::new();
        for f in self.store.files()? {
            if self.may_read_file(caller, &f)? {
                out.push(f);
            }
        }
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    /// One file's description.
    ///
    /// # Errors
    /// [`RagError::NotFound`] when it does not exist or the caller may not read it.
    pub fn get_file(&self, caller: &Caller, file_id: &str) -> Result<StoredFile, RagError> {
        match self.store.file(file_id)? {
            Some(f) if self.may_read_file(caller, &f)? => Ok(f),
            _ => Err(RagError::NotFound(format!("file {file_id:?}"))),
        }
    }

    /// One file's bytes.
    ///
    /// # Errors
    /// As [`Rag::get_file`].
    pub fn file_content(&self, caller: &Caller, file_id: &str) -> Result<Vec<u8>, RagError> {
        let f = self.get_file(caller, file_id)?;
        self.store.blob(&f.id)?.ok_or_else(|| RagError::Store(format!("blob of {} is missing", f.id)))
    }

    /// Deletes a file and its documents in every collection. Allowed to admins, the
    /// uploader and the uploader's department.
    ///
    /// # Errors
    /// [`RagError::NotFound`] (also when the caller may only read it).
    pub fn delete_file(&self, caller: &Caller, file_id: &str) -> Result<(), RagError> {
        let f = self.get_file(caller, file_id)?;
        if !(caller.admin || f.owner_user == caller.user || (!caller.department.is_empty() && f.owner_department == caller.department)) {
            return Err(RagError::NotFound(format!("file {file_id:?}")));
        }
        self.commit(|k| {
            let colls = self.store.collections_of_file(&f.id)?;
            self.store.delete_file(&f.id)?;
            for c in colls {
                k.update(&c, |ix| {
                    ix.remove_file(&f.id);
                    Ok(())
                });
            }
            Ok(())
        })
    }

    /// Deletes a file that no collection holds any more (after its last document was
    /// removed); returns whether it was deleted. A file still held somewhere, or being
    /// ingested into a collection, is kept.
    ///
    /// # Errors
    /// As [`Rag::delete_file`].
    pub fn purge_orphan_file(&self, caller: &Caller, file_id: &str) -> Result<bool, RagError> {
        let f = self.get_file(caller, file_id)?;
        if !self.store.collections_of_file(&f.id)?.is_empty() || self.file_being_ingested(&f.id) {
            return Ok(false);
        }
        self.delete_file(caller, &f.id)?;
        Ok(true)
    }
}

/// Keeps the last path component and rejects empty or control-character names.
pub(crate) fn valid_filename(name: &str) -> Result<String, RagError> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if base.is_empty() || base.chars().count() > 255 || base.chars().any(char::is_control) {
        return Err(RagError::Invalid("filename: use 1 to 255 characters without control characters".into()));
    }
    Ok(base.to_string())
}
