{
  "targets": [
    {
      "target_name": "sealstream_native",
      "sources": ["src/gcm.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "conditions": [
        ["OS=='linux'", {
          "ldflags": ["-Wl,-z,now", "-Wl,-z,relro"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "OTHER_LDFLAGS": ["-undefined", "dynamic_lookup", "-Wl,-bind_at_load"]
          }
        }]
      ]
    }
  ]
}
