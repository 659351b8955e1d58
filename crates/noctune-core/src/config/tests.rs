use std::collections::BTreeMap;
use std::path::Path;

use pretty_assertions::assert_eq;

use super::*;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn no_env() -> EnvOverrides {
    EnvOverrides::default()
}

fn load_err(files: &[(&str, &str)], env: &EnvOverrides) -> ConfigError {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        write(dir.path(), name, text);
    }
    load(dir.path(), env).unwrap_err()
}

#[test]
fn defaults_without_any_file() {
    let dir = tempfile::tempdir().unwrap();
    let settings = load(dir.path(), &no_env()).unwrap();
    assert_eq!(settings.source, ConfigSource::Defaults);
    assert!(!settings.allow_apply);
    assert_eq!(settings.max_passes, 3);
    assert_eq!(settings.llm, LlmSettings::default());
}

#[test]
fn template_resolves_to_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), CONFIG_FILE, TEMPLATE);
    let from_template = load(dir.path(), &no_env()).unwrap();
    let defaults = Settings {
        source: from_template.source.clone(),
        ..load(tempfile::tempdir().unwrap().path(), &no_env()).unwrap()
    };
    // The default allowed root is each repository's own root.
    assert_eq!(
        from_template.studio.allowed_roots,
        vec![from_template.root.clone()]
    );
    assert_eq!(
        Settings {
            root: defaults.root.clone(),
            studio: defaults.studio.clone(),
            ..from_template
        },
        defaults
    );
}

#[test]
fn noctune_toml_wins_over_pyproject() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), CONFIG_FILE, "max_passes = 7\n");
    write(
        dir.path(),
        "pyproject.toml",
        "[tool.noctune]\nmax_passes = 2\n",
    );
    let settings = load(dir.path(), &no_env()).unwrap();
    assert_eq!(settings.max_passes, 7);
    assert!(matches!(
        settings.source,
        ConfigSource::NoctuneToml { nested: false, .. }
    ));
}

#[test]
fn pyproject_is_used_when_there_is_no_noctune_toml() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pyproject.toml",
        "[project]\nname = \"x\"\n[tool.ruff]\nline-length = 100\n[tool.noctune]\nmax_passes = 2\n[tool.noctune.llm]\nmodel = \"qwen\"\n",
    );
    let settings = load(dir.path(), &no_env()).unwrap();
    assert_eq!(settings.max_passes, 2);
    assert_eq!(settings.llm.model.as_deref(), Some("qwen"));
    assert!(matches!(settings.source, ConfigSource::Pyproject { .. }));
}

#[test]
fn pyproject_without_a_noctune_table_means_defaults() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pyproject.toml",
        "[tool.ruff]\nline-length = 100\n",
    );
    let settings = load(dir.path(), &no_env()).unwrap();
    assert_eq!(settings.source, ConfigSource::Defaults);
}

#[test]
fn nested_form_in_noctune_toml() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        CONFIG_FILE,
        "[tool.noctune]\nallow_apply = true\n[tool.noctune.llm.profiles.big]\nmodel = \"qwen-32b\"\n[tool.noctune.stages]\nreview = \"big\"\n",
    );
    let settings = load(dir.path(), &no_env()).unwrap();
    assert!(settings.allow_apply);
    assert_eq!(
        settings.llm_for(crate::Stage::Review).model.as_deref(),
        Some("qwen-32b")
    );
    assert_eq!(settings.llm_for(crate::Stage::Edit).model, None);
}

#[test]
fn env_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        CONFIG_FILE,
        "[llm]\nbase_url = \"http://gpu-box:8080/v1\"\napi_key = \"file\"\nheaders = { A = \"1\" }\n",
    );
    let vars: BTreeMap<&str, &str> = [
        ("NOCTUNE_BASE_URL", "http://127.0.0.1:9999/v1/"),
        ("NOCTUNE_API_KEY", "env-key"),
        ("NOCTUNE_HEADERS_JSON", r#"{"B": "2"}"#),
    ]
    .into();
    let env = EnvOverrides::from_lookup(|name| vars.get(name).map(|v| (*v).to_owned()));
    let settings = load(dir.path(), &env).unwrap();
    assert_eq!(settings.llm.base_url, "http://127.0.0.1:9999/v1");
    assert_eq!(settings.llm.api_key.as_deref(), Some("env-key"));
    assert_eq!(
        settings.llm.headers,
        BTreeMap::from([("A".into(), "1".into()), ("B".into(), "2".into())])
    );
}

#[test]
fn invalid_toml_names_the_file_and_line() {
    let err = load_err(&[(CONFIG_FILE, "allow_apply = \n")], &no_env());
    assert!(err.source_name.ends_with(CONFIG_FILE), "{err}");
    assert_eq!(err.key, None);
    assert!(err.message.starts_with("invalid TOML"), "{err}");
    assert!(err.message.contains("line 1"), "{err}");
}

#[test]
fn wrong_type_names_the_key_and_the_expected_type() {
    let err = load_err(
        &[(CONFIG_FILE, "[llm]\ntimeout_s = \"ten minutes\"\n")],
        &no_env(),
    );
    assert_eq!(err.key.as_deref(), Some("llm.timeout_s"));
    assert!(err.message.contains("invalid type: string"), "{err}");
    assert!(err.message.contains("expected u64"), "{err}");

    let err = load_err(
        &[("pyproject.toml", "[tool.noctune]\nallow_apply = \"yes\"\n")],
        &no_env(),
    );
    assert!(err.source_name.ends_with("pyproject.toml"), "{err}");
    assert_eq!(err.key.as_deref(), Some("tool.noctune.allow_apply"));
    assert!(err.message.contains("expected a boolean"), "{err}");
}

#[test]
fn unknown_key_is_named_with_its_full_path() {
    let err = load_err(&[(CONFIG_FILE, "[llm]\nbase_ulr = \"x\"\n")], &no_env());
    assert_eq!(err.key.as_deref(), Some("llm.base_ulr"));
    assert!(err.message.contains("expected one of"), "{err}");

    let err = load_err(&[(CONFIG_FILE, "allow_aply = true\n")], &no_env());
    assert_eq!(err.key.as_deref(), Some("allow_aply"));

    let err = load_err(
        &[(
            "pyproject.toml",
            "[tool.noctune.policy_packs.lint_fix]\nmax_diff = 3\n",
        )],
        &no_env(),
    );
    assert_eq!(
        err.key.as_deref(),
        Some("tool.noctune.policy_packs.lint_fix.max_diff")
    );
}

#[test]
fn bad_values_are_explained() {
    let err = load_err(&[(CONFIG_FILE, "max_passes = 0\n")], &no_env());
    assert_eq!(err.key.as_deref(), Some("max_passes"));
    assert!(
        err.message.contains("expected a number from 1 to 50"),
        "{err}"
    );

    let err = load_err(
        &[(CONFIG_FILE, "[llm]\nbase_url = \"localhost:8080\"\n")],
        &no_env(),
    );
    assert_eq!(err.key.as_deref(), Some("llm.base_url"));
    assert!(err.message.contains("http://"), "{err}");

    let err = load_err(&[(CONFIG_FILE, "[stages]\nreview = \"big\"\n")], &no_env());
    assert_eq!(err.key.as_deref(), Some("stages.review"));
    assert!(err.message.contains("`big`"), "{err}");

    let err = load_err(
        &[(
            CONFIG_FILE,
            "[policy_packs.x]\nauto_approve = { max_risk = 1.5 }\n",
        )],
        &no_env(),
    );
    assert_eq!(
        err.key.as_deref(),
        Some("policy_packs.x.auto_approve.max_risk")
    );

    let err = load_err(
        &[(
            CONFIG_FILE,
            "[policy_packs.x]\ntools_allowed = [\"pytset\"]\n",
        )],
        &no_env(),
    );
    assert_eq!(err.key.as_deref(), Some("policy_packs.x.tools_allowed"));
    assert!(err.message.contains("unknown tool `pytset`"), "{err}");

    let err = load_err(
        &[(CONFIG_FILE, "[policy_packs.x]\ntest_command = []\n")],
        &no_env(),
    );
    assert_eq!(err.key.as_deref(), Some("policy_packs.x.test_command"));

    let err = load_err(
        &[(CONFIG_FILE, "[policy_packs.x]\ntest_timeout_s = 0\n")],
        &no_env(),
    );
    assert_eq!(err.key.as_deref(), Some("policy_packs.x.test_timeout_s"));

    let err = load_err(&[(CONFIG_FILE, "[budgets]\nfile_tokens = 0\n")], &no_env());
    assert_eq!(err.key.as_deref(), Some("budgets.file_tokens"));

    let err = load_err(&[(CONFIG_FILE, "[stages]\nlint = \"big\"\n")], &no_env());
    assert_eq!(err.key.as_deref(), Some("stages.lint"));
}

#[test]
fn bad_headers_json_names_the_variable() {
    for (raw, expected) in [
        ("{not json", "expected a JSON object of headers"),
        ("[1, 2]", "found an array"),
        (
            r#"{"X": 1}"#,
            "header `X`: expected a string value, found a number",
        ),
    ] {
        let env = EnvOverrides {
            headers_json: Some(raw.to_owned()),
            ..EnvOverrides::default()
        };
        let err = load_err(&[], &env);
        assert_eq!(err.source_name, "NOCTUNE_HEADERS_JSON");
        assert!(err.message.contains(expected), "{raw}: {err}");
    }
}

#[test]
fn bad_base_url_in_env_names_the_variable() {
    let env = EnvOverrides {
        base_url: Some("ftp://x".into()),
        ..EnvOverrides::default()
    };
    let err = load_err(&[], &env);
    assert_eq!(err.source_name, "NOCTUNE_BASE_URL");
}

#[test]
fn mixed_top_level_and_tool_form_is_rejected() {
    let err = load_err(
        &[(
            CONFIG_FILE,
            "allow_apply = true\n[tool.noctune]\nmax_passes = 2\n",
        )],
        &no_env(),
    );
    assert_eq!(err.key.as_deref(), Some("allow_apply"));
}

#[test]
fn studio_allowed_roots_default_to_the_root_and_resolve_against_it() {
    let dir = tempfile::tempdir().unwrap();
    let settings = load(dir.path(), &no_env()).unwrap();
    assert_eq!(settings.studio.allowed_roots, vec![settings.root.clone()]);
    write(
        dir.path(),
        CONFIG_FILE,
        "[studio]\nallowed_roots = [\"src\", \"/srv/shared\"]\n",
    );
    let settings = load(dir.path(), &no_env()).unwrap();
    assert_eq!(
        settings.studio.allowed_roots,
        vec![
            settings.root.join("src"),
            std::path::PathBuf::from("/srv/shared")
        ]
    );
}

#[test]
fn studio_allowed_roots_errors_name_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), CONFIG_FILE, "[studio]\nallowed_roots = []\n");
    let err = load(dir.path(), &no_env()).unwrap_err();
    assert_eq!(err.key.as_deref(), Some("studio.allowed_roots"));
    assert!(err.source_name.ends_with(CONFIG_FILE), "{err}");
    write(
        dir.path(),
        CONFIG_FILE,
        "[studio]\nallowed_roots = [\"\"]\n",
    );
    let err = load(dir.path(), &no_env()).unwrap_err();
    assert_eq!(err.key.as_deref(), Some("studio.allowed_roots[0]"));
    write(dir.path(), CONFIG_FILE, "[studio]\nroots = [\"src\"]\n");
    let err = load(dir.path(), &no_env()).unwrap_err();
    assert_eq!(err.key.as_deref(), Some("studio.roots"));
}

#[test]
fn studio_mcp_servers_resolve_with_defaults_and_paths_against_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let settings = load(dir.path(), &no_env()).unwrap();
    assert!(settings.studio.mcp_servers.is_empty());
    write(
        dir.path(),
        CONFIG_FILE,
        "[studio.mcp_servers.docs]\ncommand = \"npx\"\nargs = [\"-y\", \"docs-server\"]\n\
         env = { TOKEN = \"t\" }\n\
         [studio.mcp_servers.local-tools]\ncommand = \"./bin/server\"\ntimeout_s = 5\nstart_timeout_s = 120\n",
    );
    let settings = load(dir.path(), &no_env()).unwrap();
    let servers = &settings.studio.mcp_servers;
    assert_eq!(
        servers["docs"],
        McpServerSettings {
            command: "npx".into(),
            args: vec!["-y".into(), "docs-server".into()],
            env: [("TOKEN".to_owned(), "t".to_owned())].into(),
            timeout: DEFAULT_MCP_TIMEOUT,
            start_timeout: DEFAULT_MCP_TIMEOUT,
        }
    );
    assert_eq!(
        servers["local-tools"],
        McpServerSettings {
            command: settings.root.join("./bin/server"),
            args: Vec::new(),
            env: BTreeMap::new(),
            timeout: std::time::Duration::from_secs(5),
            start_timeout: std::time::Duration::from_secs(120),
        }
    );
}

#[test]
fn studio_mcp_server_errors_name_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[studio.mcp_servers.docs]\nargs = [\"x\"]\n",
            "studio.mcp_servers.docs.command",
        ),
        (
            "[studio.mcp_servers.docs]\ncommand = \" \"\n",
            "studio.mcp_servers.docs.command",
        ),
        (
            "[studio.mcp_servers.\"a__b\"]\ncommand = \"x\"\n",
            "studio.mcp_servers.a__b",
        ),
        (
            "[studio.mcp_servers.\"a b\"]\ncommand = \"x\"\n",
            "studio.mcp_servers.a b",
        ),
        (
            "[studio.mcp_servers.docs]\ncommand = \"x\"\ntimeout_s = 0\n",
            "studio.mcp_servers.docs.timeout_s",
        ),
        (
            "[studio.mcp_servers.docs]\ncommand = \"x\"\nstart_timeout_s = 3601\n",
            "studio.mcp_servers.docs.start_timeout_s",
        ),
        (
            "[studio.mcp_servers.docs]\ncommand = \"x\"\nenv = { \"A=B\" = \"c\" }\n",
            "studio.mcp_servers.docs.env",
        ),
        (
            "[studio.mcp_servers.docs]\ncommand = \"x\"\ncwd = \"/\"\n",
            "studio.mcp_servers.docs.cwd",
        ),
    ];
    for (text, key) in cases {
        write(dir.path(), CONFIG_FILE, text);
        let err = load(dir.path(), &no_env()).unwrap_err();
        assert_eq!(err.key.as_deref(), Some(key), "{text}: {err}");
        assert!(err.source_name.ends_with(CONFIG_FILE), "{err}");
    }
}

#[test]
fn mcp_server_names_split_at_the_first_double_underscore() {
    for good in ["docs", "a-b", "a_b", "A1"] {
        assert!(is_mcp_server_name(good), "{good}");
    }
    for bad in ["", "a__b", "a_", "a.b", "a b", &"x".repeat(33)] {
        assert!(!is_mcp_server_name(bad), "{bad}");
    }
}

#[test]
fn patchset_keys_are_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        CONFIG_FILE,
        "patchset_max_commits = 3\ncommit_each_approval = true\npatchset_module_depth = 1\n",
    );
    let settings = load(dir.path(), &no_env()).unwrap();
    assert_eq!(
        (
            settings.patchset_max_commits,
            settings.commit_each_approval,
            settings.patchset_module_depth
        ),
        (3, true, 1)
    );
    let err = load_err(&[(CONFIG_FILE, "patchset_module_depth = 0\n")], &no_env());
    assert_eq!(err.key.as_deref(), Some("patchset_module_depth"));
    assert!(err.message.contains("from 1 to 20, found 0"), "{err}");
}

#[test]
fn task_keys_are_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let settings = load(dir.path(), &no_env()).unwrap();
    assert_eq!(settings.task, TaskSettings::default());
    write(
        dir.path(),
        CONFIG_FILE,
        "[task]\npack = \"deps_bump\"\nmax_retries = 1\nprobe = [\"python\", \"-m\", \"pkg\"]\nprobe_timeout_s = 5\n",
    );
    let settings = load(dir.path(), &no_env()).unwrap();
    assert_eq!(
        settings.task,
        TaskSettings {
            pack: "deps_bump".into(),
            max_retries: 1,
            probe: vec!["python".into(), "-m".into(), "pkg".into()],
            probe_timeout: std::time::Duration::from_secs(5),
        }
    );
    for (text, key) in [
        ("[task]\nprobe = []\n", "task.probe"),
        ("[task]\nprobe_timeout_s = 0\n", "task.probe_timeout_s"),
    ] {
        let err = load_err(&[(CONFIG_FILE, text)], &no_env());
        assert_eq!(err.key.as_deref(), Some(key), "{text}: {err}");
    }
}

#[test]
fn endpoints_with_their_keys_and_slots() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        CONFIG_FILE,
        "[llm]\nslots = 2\nendpoints = [\n  { base_url = \"http://gpu1:8080/v1/\", slots = 4 },\n  \
         { base_url = \"http://gpu2:8080/v1\", api_key_env = \"GPU2_KEY\" },\n]\n\
         [llm.profiles.big]\nendpoints = [{ base_url = \"http://big:8080/v1\" }]\n",
    );
    let settings = load(dir.path(), &no_env()).unwrap();
    let pool = settings.llm.pool();
    assert_eq!(
        pool,
        vec![
            EndpointSettings {
                base_url: "http://gpu1:8080/v1".into(),
                api_key_env: None,
                slots: Some(4),
                key: "llm.endpoints[0]".into(),
            },
            EndpointSettings {
                base_url: "http://gpu2:8080/v1".into(),
                api_key_env: Some("GPU2_KEY".into()),
                slots: None,
                key: "llm.endpoints[1]".into(),
            },
        ]
    );
    let big = settings.profiles["big"].pool();
    assert_eq!(big.len(), 1);
    assert_eq!(big[0].key, "llm.profiles.big.endpoints[0]");

    // Without `endpoints`, `base_url` alone with `slots`.
    write(dir.path(), CONFIG_FILE, "[llm]\nslots = 3\n");
    let single = load(dir.path(), &no_env()).unwrap().llm.pool();
    assert_eq!(single.len(), 1);
    assert_eq!(single[0].base_url, DEFAULT_BASE_URL);
    assert_eq!(single[0].slots, Some(3));

    // NOCTUNE_BASE_URL names one server: it replaces the list.
    write(
        dir.path(),
        CONFIG_FILE,
        "[llm]\nendpoints = [{ base_url = \"http://gpu1:8080/v1\" }]\n",
    );
    let env = EnvOverrides {
        base_url: Some("http://127.0.0.1:9999/v1".into()),
        ..EnvOverrides::default()
    };
    let overridden = load(dir.path(), &env).unwrap().llm.pool();
    assert_eq!(overridden.len(), 1);
    assert_eq!(overridden[0].base_url, "http://127.0.0.1:9999/v1");
}

#[test]
fn bad_endpoints_name_the_key_at_fault() {
    for (text, key, words) in [
        (
            "[llm]\nendpoints = [{ base_url = \"http://a/v1\" }, { base_url = \"gpu:8080\" }]\n",
            "llm.endpoints[1].base_url",
            "http://",
        ),
        (
            "[llm]\nendpoints = [{ base_url = \"http://a/v1\" }, { base_url = \"http://a/v1/\" }]\n",
            "llm.endpoints[1].base_url",
            "listed twice",
        ),
        ("[llm]\nendpoints = []\n", "llm.endpoints", "at least one"),
        (
            "[llm]\nendpoints = [{ base_url = \"http://a/v1\", slots = 0 }]\n",
            "llm.endpoints[0].slots",
            "from 1 to 64",
        ),
        (
            "[llm]\nendpoints = [{ base_url = \"http://a/v1\", api_key_env = \" \" }]\n",
            "llm.endpoints[0].api_key_env",
            "environment variable",
        ),
        ("[llm]\nslots = 65\n", "llm.slots", "from 1 to 64"),
        (
            "[llm.profiles.p]\nendpoints = [{ base_url = \"x\" }]\n",
            "llm.profiles.p.endpoints[0].base_url",
            "http://",
        ),
    ] {
        let err = load_err(&[(CONFIG_FILE, text)], &no_env());
        assert_eq!(err.key.as_deref(), Some(key), "{text}: {err}");
        assert!(err.message.contains(words), "{text}: {err}");
    }
    // An unknown field of an endpoint is refused by name.
    let err = load_err(
        &[(
            CONFIG_FILE,
            "[llm]\nendpoints = [{ base_url = \"http://a/v1\", slot = 2 }]\n",
        )],
        &no_env(),
    );
    assert!(err.to_string().contains("slot"), "{err}");
}
