// A RocksDB file system whose writes can be made to fail, built on RocksDB's
// public FileSystemWrapper: the disk-full and I/O-error tests
// (io_fault_test.cc). While a fault is set, every Append, PositionedAppend,
// Flush, Sync, Fsync, RangeSync and new file fails with it (ENOSPC as
// RocksDB's IOStatus::NoSpace, an I/O error as IOStatus::IOError), in the
// write-ahead log and every other file RocksDB writes; Clear() models space
// freed or the device back. Reads always go through. Like RocksDB's POSIX
// errors ("While appending to file: <path>: ..."), each names the file.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <memory>
#include <string>

namespace hearth::testing {

class IoFaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  enum class Fault { kNone, kNoSpace, kIOError, kSyncError };

  explicit IoFaultFileSystem(std::shared_ptr<rocksdb::FileSystem> base = rocksdb::FileSystem::Default())
      : rocksdb::FileSystemWrapper(std::move(base)) {}

  const char* Name() const override { return "IoFaultFileSystem"; }

  void Set(Fault f) { fault_.store(f); }
  void Clear() { fault_.store(Fault::kNone); }
  // Writes and syncs refused since the start.
  uint64_t refused() const { return refused_.load(); }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    if (rocksdb::IOStatus s = WriteFault(f); !s.ok()) return s;
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, &file, dbg);
    if (s.ok()) r->reset(new File(this, f, std::move(file)));
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    if (rocksdb::IOStatus s = WriteFault(f); !s.ok()) return s;
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->ReopenWritableFile(f, o, &file, dbg);
    if (s.ok()) r->reset(new File(this, f, std::move(file)));
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old_f,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override {
    if (rocksdb::IOStatus s = WriteFault(f); !s.ok()) return s;
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->ReuseWritableFile(f, old_f, o, &file, dbg);
    if (s.ok()) r->reset(new File(this, f, std::move(file)));
    return s;
  }

 private:
  // The fault a write (append, new file) meets now.
  rocksdb::IOStatus WriteFault(const std::string& file) {
    switch (fault_.load()) {
      case Fault::kNoSpace:
        refused_++;
        return rocksdb::IOStatus::NoSpace("While appending to file", file + ": injected: no space left on device");
      case Fault::kIOError:
        refused_++;
        return rocksdb::IOStatus::IOError("While appending to file", file + ": injected: input/output error");
      default:
        return rocksdb::IOStatus::OK();
    }
  }
  // The fault a sync meets now.
  rocksdb::IOStatus SyncFault(const std::string& file) {
    if (fault_.load() == Fault::kSyncError) {
      refused_++;
      return rocksdb::IOStatus::IOError("While fdatasync", file + ": injected: fsync failed");
    }
    return WriteFault(file);
  }

  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(IoFaultFileSystem* fs, std::string name, std::unique_ptr<rocksdb::FSWritableFile> f)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(f)), fs_(fs), name_(std::move(name)) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = fs_->WriteFault(name_); !s.ok()) return s;
      return target()->Append(data, o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = fs_->WriteFault(name_); !s.ok()) return s;
      return target()->Append(data, o, info, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = fs_->WriteFault(name_); !s.ok()) return s;
      return target()->PositionedAppend(data, offset, o, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& o,
                                       const rocksdb::DataVerificationInfo& info,
                                       rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = fs_->WriteFault(name_); !s.ok()) return s;
      return target()->PositionedAppend(data, offset, o, info, dbg);
    }
    rocksdb::IOStatus Flush(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = fs_->WriteFault(name_); !s.ok()) return s;
      return target()->Flush(o, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = fs_->SyncFault(name_); !s.ok()) return s;
      return target()->Sync(o, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = fs_->SyncFault(name_); !s.ok()) return s;
      return target()->Fsync(o, dbg);
    }
    rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& o,
                                rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = fs_->SyncFault(name_); !s.ok()) return s;
      return target()->RangeSync(offset, nbytes, o, dbg);
    }

   private:
    IoFaultFileSystem* fs_;
    std::string name_;
  };

  std::atomic<Fault> fault_{Fault::kNone};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace hearth::testing
