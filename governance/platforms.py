"""The target platforms mlgov knows, as data: imported by the CLI for its choices, so it imports nothing."""

# The marker values a CPython on each platform reports (platform_release and
# platform_version vary per machine; lockfiles do not use them, so they stay empty).
PLATFORMS: dict[str, dict[str, str]] = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                     "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                      "platform_machine": "aarch64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix",
                    "platform_machine": "arm64"},
    "windows-amd64": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                      "platform_machine": "AMD64"},
}

# conda's name for the same platform (the subdir of a channel).
CONDA_SUBDIRS = {"linux-x86_64": "linux-64", "linux-aarch64": "linux-aarch64",
                 "macos-arm64": "osx-arm64", "windows-amd64": "win-64"}

__all__ = ["PLATFORMS", "CONDA_SUBDIRS"]
