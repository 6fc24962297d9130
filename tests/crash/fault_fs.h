// A RocksDB file system that simulates a power cut, built only on RocksDB's
// public FileSystemWrapper (in the spirit of RocksDB's own fault-injection
// file system used by its crash tests).
//
// While the power is on, every call goes to the real file system, and the
// wrapper remembers, for each file RocksDB writes, how many bytes it has
// appended and how many of them a Sync/Fsync has made durable, and which
// directory entries (files created or renamed into place) have not yet been
// made durable by an fsync of their directory.
//
// CutPower() models the moment the power goes: from then on every write,
// sync, create, rename and delete fails, so nothing more reaches the disk
// (the store is then closed, as a process dies with the machine). Restart()
// models the machine coming back: every file is cut back to the bytes that
// were synced, and, with `lose_unsynced_dir_entries`, each file created since
// its directory's last fsync is gone and a file renamed over an older one has
// the older contents again.
//
// What it does not model: torn or reordered writes within synced data, a
// deleted file coming back because its directory was not synced, and files
// RocksDB writes outside FSWritableFile (its info LOG, the LOCK file).
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace hearth::testing {

class PowerCutFileSystem : public rocksdb::FileSystemWrapper {
 public:
  struct RestartReport {
    uint64_t files_truncated = 0;
    uint64_t bytes_dropped = 0;
    uint64_t entries_lost = 0;  // files removed or given back their old contents
  };

  explicit PowerCutFileSystem(std::shared_ptr<rocksdb::FileSystem> base = rocksdb::FileSystem::Default())
      : rocksdb::FileSystemWrapper(std::move(base)) {}

  const char* Name() const override { return "PowerCutFileSystem"; }

  void CutPower() { powered_.store(false); }
  bool powered() const { return powered_.load(); }

  // Call only when nothing holds the files open (the store is closed).
  RestartReport Restart(bool lose_unsynced_dir_entries) {
    std::lock_guard<std::mutex> lock(mu_);
    RestartReport report;
    namespace fs = std::filesystem;
    for (auto& [name, state] : files_) {
      std::error_code ec;
      if (!fs::exists(name, ec)) continue;
      uint64_t size = fs::file_size(name, ec);
      if (!ec && size > state.synced) {
        fs::resize_file(name, state.synced, ec);
        report.files_truncated++;
        report.bytes_dropped += size - state.synced;
      }
      state.written = state.synced;
    }
    if (lose_unsynced_dir_entries) {
      for (auto& [dir, entries] : unsynced_entries_) {
        for (auto& [name, old_contents] : entries) {
          std::error_code ec;
          if (old_contents.has_value()) {
            std::ofstream out(name, std::ios::binary | std::ios::trunc);
            out << *old_contents;
            files_[name] = FileState{old_contents->size(), old_contents->size()};
          } else {
            fs::remove(name, ec);
            files_.erase(name);
          }
          report.entries_lost++;
        }
      }
    }
    unsynced_entries_.clear();
    powered_.store(true);
    return report;
  }

  // ------------------------------------------------ the wrapped calls ----

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    if (!powered()) return Off();
    std::optional<std::string> old = ContentsIfExists(f);
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, &file, dbg);
    if (!s.ok()) return s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      files_[f] = FileState{};
      NoteEntry(f, std::move(old));
    }
    r->reset(new File(this, f, std::move(file)));
    return s;
  }

  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    if (!powered()) return Off();
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->ReopenWritableFile(f, o, &file, dbg);
    if (!s.ok()) return s;
    std::error_code ec;
    uint64_t size = std::filesystem::file_size(f, ec);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = files_.find(f);
      if (it == files_.end()) {
        files_[f] = FileState{ec ? 0 : size, ec ? 0 : size};
      } else {
        it->second.written = ec ? it->second.written : size;
      }
    }
    r->reset(new File(this, f, std::move(file)));
    return s;
  }

  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old_f,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override {
    if (!powered()) return Off();
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->ReuseWritableFile(f, old_f, o, &file, dbg);
    if (!s.ok()) return s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      files_.erase(old_f);
      files_[f] = FileState{};
      NoteEntry(f, std::nullopt);
    }
    r->reset(new File(this, f, std::move(file)));
    return s;
  }

  rocksdb::IOStatus NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    if (!powered()) return Off();
    return target()->NewRandomRWFile(f, o, r, dbg);
  }

  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                 rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSDirectory> dir;
    rocksdb::IOStatus s = target()->NewDirectory(name, o, &dir, dbg);
    if (!s.ok()) return s;
    r->reset(new Directory(this, Trim(name), std::move(dir)));
    return s;
  }

  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (!powered()) return Off();
    std::optional<std::string> old = ContentsIfExists(to);
    rocksdb::IOStatus s = target()->RenameFile(from, to, o, dbg);
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(from);
    FileState state;
    if (it != files_.end()) {
      state = it->second;
      files_.erase(it);
    } else {
      std::error_code ec;
      uint64_t size = std::filesystem::file_size(to, ec);
      state = FileState{ec ? 0 : size, ec ? 0 : size};
    }
    files_[to] = state;
    ForgetEntry(from);
    NoteEntry(to, std::move(old));
    return s;
  }

  rocksdb::IOStatus LinkFile(const std::string& from, const std::string& to,
                             const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (!powered()) return Off();
    rocksdb::IOStatus s = target()->LinkFile(from, to, o, dbg);
    if (s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      NoteEntry(to, std::nullopt);
    }
    return s;
  }

  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override {
    if (!powered()) return Off();
    rocksdb::IOStatus s = target()->DeleteFile(f, o, dbg);
    if (s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      files_.erase(f);
      ForgetEntry(f);
    }
    return s;
  }

  rocksdb::IOStatus Truncate(const std::string& f, size_t size, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
    if (!powered()) return Off();
    rocksdb::IOStatus s = target()->Truncate(f, size, o, dbg);
    if (s.ok()) Truncated(f, size);
    return s;
  }

  rocksdb::IOStatus CreateDir(const std::string& d, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override {
    if (!powered()) return Off();
    return target()->CreateDir(d, o, dbg);
  }
  rocksdb::IOStatus CreateDirIfMissing(const std::string& d, const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override {
    if (!powered()) return Off();
    return target()->CreateDirIfMissing(d, o, dbg);
  }
  rocksdb::IOStatus DeleteDir(const std::string& d, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override {
    if (!powered()) return Off();
    return target()->DeleteDir(d, o, dbg);
  }

 private:
  struct FileState {
    uint64_t written = 0;  // bytes appended
    uint64_t synced = 0;   // of which made durable by Sync/Fsync
  };

  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(PowerCutFileSystem* fs, std::string name, std::unique_ptr<rocksdb::FSWritableFile> f)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(f)), fs_(fs), name_(std::move(name)) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (!fs_->powered()) return Off();
      rocksdb::IOStatus s = target()->Append(data, o, dbg);
      if (s.ok()) fs_->Appended(name_, std::nullopt, data.size());
      return s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (!fs_->powered()) return Off();
      rocksdb::IOStatus s = target()->Append(data, o, info, dbg);
      if (s.ok()) fs_->Appended(name_, std::nullopt, data.size());
      return s;
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override {
      if (!fs_->powered()) return Off();
      rocksdb::IOStatus s = target()->PositionedAppend(data, offset, o, dbg);
      if (s.ok()) fs_->Appended(name_, offset, data.size());
      return s;
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& o,
                                       const rocksdb::DataVerificationInfo& info,
                                       rocksdb::IODebugContext* dbg) override {
      if (!fs_->powered()) return Off();
      rocksdb::IOStatus s = target()->PositionedAppend(data, offset, o, info, dbg);
      if (s.ok()) fs_->Appended(name_, offset, data.size());
      return s;
    }
    rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override {
      if (!fs_->powered()) return Off();
      rocksdb::IOStatus s = target()->Truncate(size, o, dbg);
      if (s.ok()) fs_->Truncated(name_, size);
      return s;
    }
    rocksdb::IOStatus Flush(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (!fs_->powered()) return Off();
      return target()->Flush(o, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (!fs_->powered()) return Off();
      rocksdb::IOStatus s = target()->Sync(o, dbg);
      if (s.ok()) fs_->Synced(name_);
      return s;
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (!fs_->powered()) return Off();
      rocksdb::IOStatus s = target()->Fsync(o, dbg);
      if (s.ok()) fs_->Synced(name_);
      return s;
    }
    // sync_file_range promises nothing about durability: not a sync here.
    rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t n, const rocksdb::IOOptions& o,
                                rocksdb::IODebugContext* dbg) override {
      if (!fs_->powered()) return Off();
      return target()->RangeSync(offset, n, o, dbg);
    }
    // Closing releases the descriptor even after the cut; it writes nothing.
    rocksdb::IOStatus Close(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      return target()->Close(o, dbg);
    }

   private:
    PowerCutFileSystem* fs_;
    std::string name_;
  };

  class Directory : public rocksdb::FSDirectoryWrapper {
   public:
    Directory(PowerCutFileSystem* fs, std::string name, std::unique_ptr<rocksdb::FSDirectory> d)
        : rocksdb::FSDirectoryWrapper(std::move(d)), fs_(fs), name_(std::move(name)) {}
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (!fs_->powered()) return Off();
      rocksdb::IOStatus s = rocksdb::FSDirectoryWrapper::Fsync(o, dbg);
      if (s.ok()) fs_->DirSynced(name_);
      return s;
    }
    rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg,
                                          const rocksdb::DirFsyncOptions& d) override {
      if (!fs_->powered()) return Off();
      rocksdb::IOStatus s = rocksdb::FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, d);
      if (s.ok()) fs_->DirSynced(name_);
      return s;
    }

   private:
    PowerCutFileSystem* fs_;
    std::string name_;
  };

  static rocksdb::IOStatus Off() { return rocksdb::IOStatus::IOError("simulated power cut"); }

  static std::string Trim(std::string name) {
    while (name.size() > 1 && name.back() == '/') name.pop_back();
    return name;
  }
  static std::string DirOf(const std::string& file) {
    size_t slash = file.rfind('/');
    return slash == std::string::npos ? std::string(".") : Trim(file.substr(0, slash));
  }
  static std::optional<std::string> ContentsIfExists(const std::string& f) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  void Appended(const std::string& f, std::optional<uint64_t> offset, uint64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    FileState& st = files_[f];
    uint64_t end = offset.has_value() ? *offset + n : st.written + n;
    if (end > st.written) st.written = end;
  }
  void Truncated(const std::string& f, uint64_t size) {
    std::lock_guard<std::mutex> lock(mu_);
    FileState& st = files_[f];
    st.written = size;
    if (st.synced > size) st.synced = size;
  }
  void Synced(const std::string& f) {
    std::lock_guard<std::mutex> lock(mu_);
    FileState& st = files_[f];
    st.synced = st.written;
  }
  void DirSynced(const std::string& dir) {
    std::lock_guard<std::mutex> lock(mu_);
    unsynced_entries_.erase(dir);
  }
  // Caller holds mu_. The first unsynced change of a name keeps the contents
  // the name had before it (none: the name did not exist).
  void NoteEntry(const std::string& f, std::optional<std::string> old) {
    auto& entries = unsynced_entries_[DirOf(f)];
    if (entries.find(f) == entries.end()) entries.emplace(f, std::move(old));
  }
  void ForgetEntry(const std::string& f) {
    auto it = unsynced_entries_.find(DirOf(f));
    if (it != unsynced_entries_.end()) it->second.erase(f);
  }

  std::atomic<bool> powered_{true};
  std::mutex mu_;
  std::map<std::string, FileState> files_;
  // directory -> file -> its contents before the unsynced change
  std::map<std::string, std::map<std::string, std::optional<std::string>>> unsynced_entries_;
};

}  // namespace hearth::testing
