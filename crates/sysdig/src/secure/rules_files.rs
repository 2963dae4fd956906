//! Falco rules files (`/api/settings/falco/…`): the system file, the user's custom files
//! (`falco_rules_local.yaml`) and the default files with their default policies; and the
//! directory tree sdcclient saves the default files to:
//! `<dir>/<tag>/<file name>/<requiredEngineVersion>/content` and `<dir>/default_policies.yaml`.
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! let files = client.falco_rules_files();
//! files.set_user_rules("- list: my_shells\n  items: [fish]\n").await?;
//! let defaults = files.defaults().await?;
//! sysdig::secure::rules_files::save_defaults(&defaults, std::path::Path::new("rules"))?;
//! # Ok(()) }
//! ```

use std::path::Path;

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::{Client, Error, Result, request::Op};

/// The base path of the rules-file settings.
pub const PATH: &str = "/api/settings/falco";
/// The user rules file sdcclient reads and writes.
pub const USER_FILE: &str = "falco_rules_local.yaml";
/// The default policies' file in a saved tree.
pub const DEFAULT_POLICIES_FILE: &str = "default_policies.yaml";

/// One rules file, with a variant per minimum Falco engine version.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RulesFile {
    pub name: String,
    pub variants: Vec<Variant>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The content of a rules file for engines from `required_engine_version` on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Variant {
    pub required_engine_version: u64,
    pub content: String,
}

/// `{"systemRulesFile": {...}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SystemRulesFile {
    pub content: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"customFalcoRulesFiles": {...}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomRulesFiles {
    pub files: Vec<RulesFile>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"defaultFalcoRulesFiles": {...}}`: a tagged set of files and the policies recommended
/// with them (each a policy without id: name, description, ruleNames, severity, ...).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DefaultRulesFiles {
    pub tag: String,
    pub files: Vec<RulesFile>,
    pub default_policies: Vec<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

pub fn system() -> Op<SystemRulesFile> {
    Op::get(format!("{PATH}/systemRulesFile")).envelope("systemRulesFile")
}

/// `PUT` of the system file (on-prem servers only; SaaS answers 405).
///
/// # Errors
/// A body that does not serialize.
pub fn put_system(f: &SystemRulesFile) -> Result<Op<SystemRulesFile>> {
    Op::new(Method::PUT, format!("{PATH}/systemRulesFile"))
        .json(&json!({ "systemRulesFile": f }))
        .map(|op| op.envelope("systemRulesFile"))
}

pub fn custom() -> Op<CustomRulesFiles> {
    Op::get(format!("{PATH}/customRulesFiles")).envelope("customFalcoRulesFiles")
}

/// # Errors
/// A body that does not serialize.
pub fn put_custom(f: &CustomRulesFiles) -> Result<Op<CustomRulesFiles>> {
    Op::new(Method::PUT, format!("{PATH}/customRulesFiles"))
        .json(&json!({ "customFalcoRulesFiles": f }))
        .map(|op| op.envelope("customFalcoRulesFiles"))
}

pub fn defaults() -> Op<DefaultRulesFiles> {
    Op::get(format!("{PATH}/defaultRulesFiles")).envelope("defaultFalcoRulesFiles")
}

/// # Errors
/// A body that does not serialize.
pub fn put_defaults(f: &DefaultRulesFiles) -> Result<Op<DefaultRulesFiles>> {
    Op::new(Method::PUT, format!("{PATH}/defaultRulesFiles"))
        .json(&json!({ "defaultFalcoRulesFiles": f }))
        .map(|op| op.envelope("defaultFalcoRulesFiles"))
}

/// The first variant's content of the user file, as sdcclient reads it.
///
/// # Errors
/// `Expected falco_rules_local.yaml file, but no file found`.
pub fn user_content(f: &CustomRulesFiles) -> Result<String> {
    f.files
        .iter()
        .find(|f| f.name == USER_FILE)
        .and_then(|f| f.variants.first())
        .map(|v| v.content.clone())
        .ok_or_else(|| Error::Invalid(format!("Expected {USER_FILE} file, but no file found")))
}

/// Rules-file calls: `client.falco_rules_files()`.
#[derive(Clone, Copy, Debug)]
pub struct FalcoRulesFiles<'a>(&'a Client);

impl FalcoRulesFiles<'_> {
    /// # Errors
    /// As [`Client::send`].
    pub async fn system(&self) -> Result<SystemRulesFile> {
        self.0.send(&system()).await
    }

    /// Replaces the system file's content (reads it first, as sdcclient does).
    ///
    /// # Errors
    /// As [`Client::send`]: `status code 405` unless the server is on-prem.
    pub async fn set_system(&self, content: &str) -> Result<SystemRulesFile> {
        let mut f = self.system().await?;
        f.content = content.into();
        self.0.send(&put_system(&f)?).await
    }

    /// # Errors
    /// As [`Client::send`].
    pub async fn custom(&self) -> Result<CustomRulesFiles> {
        self.0.send(&custom()).await
    }

    /// The user rules (`falco_rules_local.yaml`).
    ///
    /// # Errors
    /// As [`user_content`] and [`Client::send`].
    pub async fn user_rules(&self) -> Result<String> {
        user_content(&self.custom().await?)
    }

    /// Replaces the user rules; answers the content stored (the server puts its header first
    /// when the content lacks it).
    ///
    /// # Errors
    /// As [`user_content`] and [`Client::send`] (YAML that does not parse → 400).
    pub async fn set_user_rules(&self, content: &str) -> Result<String> {
        let mut f = self.custom().await?;
        let file = f
            .files
            .iter_mut()
            .find(|f| f.name == USER_FILE)
            .ok_or_else(|| {
                Error::Invalid(format!("Expected {USER_FILE} file, but no file found"))
            })?;
        match file.variants.first_mut() {
            Some(v) => v.content = content.into(),
            None => file.variants.push(Variant {
                required_engine_version: 0,
                content: content.into(),
            }),
        }
        let stored = self.0.send(&put_custom(&f)?).await?;
        stored
            .files
            .first()
            .and_then(|f| f.variants.first())
            .map(|v| v.content.clone())
            .ok_or_else(|| Error::Invalid(format!("Expected {USER_FILE} file, but no file found")))
    }

    /// # Errors
    /// As [`Client::send`].
    pub async fn defaults(&self) -> Result<DefaultRulesFiles> {
        self.0.send(&defaults()).await
    }

    /// Replaces the default files' tag, files and default policies.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn set_defaults(&self, files: &DefaultRulesFiles) -> Result<DefaultRulesFiles> {
        let mut current = self.defaults().await?;
        current.tag.clone_from(&files.tag);
        current.files.clone_from(&files.files);
        current.default_policies.clone_from(&files.default_policies);
        self.0.send(&put_defaults(&current)?).await
    }
}

impl Client {
    /// The Falco rules files of the caller's Secure team.
    pub fn falco_rules_files(&self) -> FalcoRulesFiles<'_> {
        FalcoRulesFiles(self)
    }
}

fn io(what: &str, path: &Path, e: &dyn std::fmt::Display) -> Error {
    Error::Invalid(format!("{what} {}: {e}", path.display()))
}

/// Writes `files` under `dir` as sdcclient's `save_default_falco_rules_files` does; `dir` is
/// replaced when it exists.
///
/// # Errors
/// A directory or file that cannot be removed, created or written, or a tag or file name that
/// is not a single path component.
pub fn save_defaults(files: &DefaultRulesFiles, dir: &Path) -> Result<()> {
    let plain =
        |s: &str| !s.is_empty() && s != "." && s != ".." && !s.contains('/') && !s.contains('\\');
    if !plain(&files.tag) {
        return Err(Error::Invalid(format!("Invalid tag {:?}", files.tag)));
    }
    if dir.is_dir() {
        std::fs::remove_dir_all(dir)
            .map_err(|e| io("Could not remove existing save dir", dir, &e))?;
    } else if dir.exists() {
        std::fs::remove_file(dir).map_err(|e| io("Could not remove existing save dir", dir, &e))?;
    }
    let tag_dir = dir.join(&files.tag);
    std::fs::create_dir_all(&tag_dir)
        .map_err(|e| io("Could not create tag directory", &tag_dir, &e))?;
    if !files.default_policies.is_empty() {
        let path = dir.join(DEFAULT_POLICIES_FILE);
        let yaml = serde_saphyr::to_string(&files.default_policies)
            .map_err(|e| io("Could not write", &path, &e))?;
        std::fs::write(&path, yaml).map_err(|e| io("Could not write", &path, &e))?;
    }
    for f in &files.files {
        if !plain(&f.name) {
            return Err(Error::Invalid(format!("Invalid file name {:?}", f.name)));
        }
        for v in &f.variants {
            let vdir = tag_dir
                .join(&f.name)
                .join(v.required_engine_version.to_string());
            std::fs::create_dir_all(&vdir)
                .map_err(|e| io("Could not create variant directory", &vdir, &e))?;
            let path = vdir.join("content");
            std::fs::write(&path, &v.content)
                .map_err(|e| io("Could not write content to", &path, &e))?;
        }
    }
    Ok(())
}

/// Reads a tree written by [`save_defaults`] (or by sdcclient): exactly one tag directory,
/// numeric variant directories. Files and variants come in name order.
///
/// # Errors
/// sdcclient's messages for a tree of another shape, or a file that cannot be read.
pub fn load_defaults(dir: &Path) -> Result<DefaultRulesFiles> {
    let entries = |d: &Path| -> Result<Vec<std::path::PathBuf>> {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .map_err(|e| io("Could not read", d, &e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        v.sort();
        Ok(v)
    };
    let name_of = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let tags: Vec<_> = entries(dir)?
        .into_iter()
        .filter(|p| name_of(p) != DEFAULT_POLICIES_FILE)
        .collect();
    let [tag_dir] = tags.as_slice() else {
        return Err(Error::Invalid(format!(
            "Directory {} did not contain exactly 1 entry",
            dir.display()
        )));
    };
    if !tag_dir.is_dir() {
        return Err(Error::Invalid(format!(
            "Tag path {} is not a directory",
            tag_dir.display()
        )));
    }
    let policies_path = dir.join(DEFAULT_POLICIES_FILE);
    let default_policies = if policies_path.exists() {
        let text = std::fs::read_to_string(&policies_path)
            .map_err(|e| io("Could not load", &policies_path, &e))?;
        serde_saphyr::from_str::<Option<Vec<Value>>>(&text)
            .map_err(|e| io("Could not load", &policies_path, &e))?
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut out = DefaultRulesFiles {
        tag: name_of(tag_dir),
        default_policies,
        ..DefaultRulesFiles::default()
    };
    for fpath in entries(tag_dir)? {
        if !fpath.is_dir() {
            return Err(Error::Invalid(format!(
                "File path {} is not a directory",
                fpath.display()
            )));
        }
        let mut file = RulesFile {
            name: name_of(&fpath),
            ..RulesFile::default()
        };
        for vpath in entries(&fpath)? {
            if !vpath.is_dir() {
                return Err(Error::Invalid(format!(
                    "Variant path {} is not a directory",
                    vpath.display()
                )));
            }
            let Ok(version) = name_of(&vpath).parse::<u64>() else {
                return Err(Error::Invalid(format!(
                    "Variant directory {} must be a number",
                    vpath.display()
                )));
            };
            let cpath = vpath.join("content");
            let content = std::fs::read_to_string(&cpath)
                .map_err(|e| io("Could not read content at", &cpath, &e))?;
            file.variants.push(Variant {
                required_engine_version: version,
                content,
            });
        }
        // Newest engine first, as the server lists them.
        file.variants
            .sort_by_key(|v| std::cmp::Reverse(v.required_engine_version));
        out.files.push(file);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ToRequest;

    #[test]
    fn saved_trees_load_back() {
        let dir = tempfile::tempdir().unwrap();
        let files = DefaultRulesFiles {
            tag: "v1".into(),
            files: vec![RulesFile {
                name: "falco_rules.yaml".into(),
                variants: vec![
                    Variant {
                        required_engine_version: 29,
                        content: "- list: a\n  items: []\n".into(),
                    },
                    Variant {
                        required_engine_version: 1,
                        content: "# old\n".into(),
                    },
                ],
                extra: Map::new(),
            }],
            default_policies: vec![json!({"name": "P", "ruleNames": ["r"]})],
            extra: Map::new(),
        };
        let root = dir.path().join("saved");
        save_defaults(&files, &root).unwrap();
        assert!(root.join("v1/falco_rules.yaml/29/content").is_file());
        assert!(root.join(DEFAULT_POLICIES_FILE).is_file());
        assert_eq!(load_defaults(&root).unwrap(), files);
        // Saving again replaces the tree; a second tag makes it unreadable.
        save_defaults(&files, &root).unwrap();
        std::fs::create_dir(root.join("v2")).unwrap();
        let e = load_defaults(&root).unwrap_err().to_string();
        assert!(e.contains("did not contain exactly 1 entry"), "{e}");
        let bad = DefaultRulesFiles {
            tag: "../x".into(),
            ..DefaultRulesFiles::default()
        };
        assert!(save_defaults(&bad, &root).is_err());
    }

    #[test]
    fn puts_wrap_their_bodies() {
        let base = url::Url::parse("http://h").unwrap();
        let r = put_custom(&CustomRulesFiles::default())
            .unwrap()
            .to_request(&base)
            .unwrap();
        assert_eq!(r.uri(), "http://h/api/settings/falco/customRulesFiles");
        let b: Value = serde_json::from_slice(r.body()).unwrap();
        assert!(b["customFalcoRulesFiles"]["files"].is_array());
        let e = user_content(&CustomRulesFiles::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Expected falco_rules_local.yaml file, but no file found"
        );
    }
}
