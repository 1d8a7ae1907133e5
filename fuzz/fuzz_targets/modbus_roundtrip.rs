//! Structured Modbus PDUs (built from `arbitrary` input), both directions, every public
//! function code: whatever the builder emits as an RTU or TCP ADU is found whole by that
//! transport's streaming decoder and parses back to the same ADU.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use meterkit_modbus::{
    Decoded, Direction, ExceptionCode, Pdu, ReadDeviceIdCode, Registers, Request, Response,
    pdu::{DeviceObjects, FileLayout, FileRecords},
    rtu, tcp,
};

#[derive(Arbitrary, Debug)]
enum AnyRequest {
    ReadCoils(u16, u16),
    ReadDiscreteInputs(u16, u16),
    ReadHoldingRegisters(u16, u16),
    ReadInputRegisters(u16, u16),
    WriteSingleCoil(u16, bool),
    WriteSingleRegister(u16, u16),
    ReadExceptionStatus,
    Diagnostics(u16, u16),
    GetCommEventCounter,
    GetCommEventLog,
    WriteMultipleCoils(u16, u16, Vec<u8>),
    WriteMultipleRegisters(u16, Vec<u16>),
    ReportServerId,
    ReadFileRecord(Vec<u8>),
    WriteFileRecord(Vec<u8>),
    MaskWriteRegister(u16, u16, u16),
    ReadWriteMultipleRegisters(u16, u16, u16, Vec<u16>),
    ReadFifoQueue(u16),
    ReadDeviceIdentification(u8, u8),
}

#[derive(Arbitrary, Debug)]
enum AnyResponse {
    ReadCoils(Vec<u8>),
    ReadDiscreteInputs(Vec<u8>),
    ReadHoldingRegisters(Vec<u16>),
    ReadInputRegisters(Vec<u16>),
    WriteSingleCoil(u16, bool),
    WriteSingleRegister(u16, u16),
    ReadExceptionStatus(u8),
    Diagnostics(u16, u16),
    GetCommEventCounter(u16, u16),
    GetCommEventLog(u16, u16, u16, Vec<u8>),
    WriteMultipleCoils(u16, u16),
    WriteMultipleRegisters(u16, u16),
    ReportServerId(Vec<u8>),
    ReadFileRecord(Vec<u8>),
    WriteFileRecord(Vec<u8>),
    MaskWriteRegister(u16, u16, u16),
    ReadWriteMultipleRegisters(Vec<u16>),
    ReadFifoQueue(Vec<u16>),
    ReadDeviceIdentification(u8, u8, bool, u8, Vec<(u8, Vec<u8>)>),
    Exception(u8, u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    slave: u8,
    transaction: u16,
    unit: u8,
    request: AnyRequest,
    response: AnyResponse,
}

fn id_code(pick: u8) -> ReadDeviceIdCode {
    ReadDeviceIdCode::from_u8(1 + pick % 4).unwrap_or(ReadDeviceIdCode::Basic)
}

impl AnyRequest {
    /// The request, or `None` when its variable part is not valid (file records are taken
    /// from raw bytes and must parse).
    fn build(&self) -> Option<Request<'_>> {
        use AnyRequest as A;
        Some(match self {
            A::ReadCoils(address, quantity) => Request::ReadCoils {
                address: *address,
                quantity: *quantity,
            },
            A::ReadDiscreteInputs(address, quantity) => Request::ReadDiscreteInputs {
                address: *address,
                quantity: *quantity,
            },
            A::ReadHoldingRegisters(address, quantity) => Request::ReadHoldingRegisters {
                address: *address,
                quantity: *quantity,
            },
            A::ReadInputRegisters(address, quantity) => Request::ReadInputRegisters {
                address: *address,
                quantity: *quantity,
            },
            A::WriteSingleCoil(address, on) => Request::WriteSingleCoil {
                address: *address,
                on: *on,
            },
            A::WriteSingleRegister(address, value) => Request::WriteSingleRegister {
                address: *address,
                value: *value,
            },
            A::ReadExceptionStatus => Request::ReadExceptionStatus,
            A::Diagnostics(sub_function, data) => Request::Diagnostics {
                sub_function: *sub_function,
                data: *data,
            },
            A::GetCommEventCounter => Request::GetCommEventCounter,
            A::GetCommEventLog => Request::GetCommEventLog,
            A::WriteMultipleCoils(address, quantity, coil_bytes) => Request::WriteMultipleCoils {
                address: *address,
                quantity: *quantity,
                coil_bytes,
            },
            A::WriteMultipleRegisters(address, values) => Request::WriteMultipleRegisters {
                address: *address,
                registers: Registers::from_values(values),
            },
            A::ReportServerId => Request::ReportServerId,
            A::ReadFileRecord(bytes) => Request::ReadFileRecord {
                records: FileRecords::from_wire(FileLayout::ReadRequest, bytes).ok()?,
            },
            A::WriteFileRecord(bytes) => Request::WriteFileRecord {
                records: FileRecords::from_wire(FileLayout::Write, bytes).ok()?,
            },
            A::MaskWriteRegister(address, and_mask, or_mask) => Request::MaskWriteRegister {
                address: *address,
                and_mask: *and_mask,
                or_mask: *or_mask,
            },
            A::ReadWriteMultipleRegisters(read_address, read_quantity, write_address, values) => {
                Request::ReadWriteMultipleRegisters {
                    read_address: *read_address,
                    read_quantity: *read_quantity,
                    write_address: *write_address,
                    registers: Registers::from_values(values),
                }
            }
            A::ReadFifoQueue(address) => Request::ReadFifoQueue { address: *address },
            A::ReadDeviceIdentification(code, object_id) => Request::ReadDeviceIdentification {
                code: id_code(*code),
                object_id: *object_id,
            },
        })
    }
}

impl AnyResponse {
    /// The response; `scratch` holds encoded device objects.
    fn build<'a>(&'a self, scratch: &'a mut [u8]) -> Option<Response<'a>> {
        use AnyResponse as A;
        Some(match self {
            A::ReadCoils(coil_bytes) => Response::ReadCoils { coil_bytes },
            A::ReadDiscreteInputs(coil_bytes) => Response::ReadDiscreteInputs { coil_bytes },
            A::ReadHoldingRegisters(values) => Response::ReadHoldingRegisters {
                registers: Registers::from_values(values),
            },
            A::ReadInputRegisters(values) => Response::ReadInputRegisters {
                registers: Registers::from_values(values),
            },
            A::WriteSingleCoil(address, on) => Response::WriteSingleCoil {
                address: *address,
                on: *on,
            },
            A::WriteSingleRegister(address, value) => Response::WriteSingleRegister {
                address: *address,
                value: *value,
            },
            A::ReadExceptionStatus(status) => Response::ReadExceptionStatus { status: *status },
            A::Diagnostics(sub_function, data) => Response::Diagnostics {
                sub_function: *sub_function,
                data: *data,
            },
            A::GetCommEventCounter(status, event_count) => Response::GetCommEventCounter {
                status: *status,
                event_count: *event_count,
            },
            A::GetCommEventLog(status, event_count, message_count, events) => {
                Response::GetCommEventLog {
                    status: *status,
                    event_count: *event_count,
                    message_count: *message_count,
                    events,
                }
            }
            A::WriteMultipleCoils(address, quantity) => Response::WriteMultipleCoils {
                address: *address,
                quantity: *quantity,
            },
            A::WriteMultipleRegisters(address, quantity) => Response::WriteMultipleRegisters {
                address: *address,
                quantity: *quantity,
            },
            A::ReportServerId(data) => Response::ReportServerId { data },
            A::ReadFileRecord(bytes) => Response::ReadFileRecord {
                records: FileRecords::from_wire(FileLayout::ReadResponse, bytes).ok()?,
            },
            A::WriteFileRecord(bytes) => Response::WriteFileRecord {
                records: FileRecords::from_wire(FileLayout::Write, bytes).ok()?,
            },
            A::MaskWriteRegister(address, and_mask, or_mask) => Response::MaskWriteRegister {
                address: *address,
                and_mask: *and_mask,
                or_mask: *or_mask,
            },
            A::ReadWriteMultipleRegisters(values) => Response::ReadWriteMultipleRegisters {
                registers: Registers::from_values(values),
            },
            A::ReadFifoQueue(values) => Response::ReadFifoQueue {
                values: Registers::from_values(values),
            },
            A::ReadDeviceIdentification(
                code,
                conformity,
                more_follows,
                next_object_id,
                objects,
            ) => {
                let objects: Vec<(u8, &[u8])> = objects
                    .iter()
                    .map(|(id, value)| (*id, value.as_slice()))
                    .collect();
                Response::ReadDeviceIdentification {
                    code: id_code(*code),
                    conformity: *conformity,
                    more_follows: *more_follows,
                    next_object_id: *next_object_id,
                    objects: DeviceObjects::encode(&objects, scratch).ok()?,
                }
            }
            A::Exception(function, code) => Response::Exception {
                function: function & 0x7F,
                code: ExceptionCode::from_u8(*code),
            },
        })
    }
}

/// Emits `pdu` as an RTU and a TCP ADU; whatever the builder accepts must come back.
fn round_trip(input: &Input, pdu: Pdu<'_>, direction: Direction) {
    let rtu_repr = rtu::Repr {
        slave: input.slave,
        pdu,
    };
    let mut wire = [0u8; rtu::MAX_ADU_LEN];
    if let Ok(n) = rtu_repr.emit(&mut wire) {
        let Decoded::Frame { frame, consumed } = rtu::Decoder::new(direction).decode(&wire[..n])
        else {
            panic!(
                "RTU decoder missed the emitted {direction:?} {:02X?}",
                &wire[..n]
            );
        };
        assert_eq!(consumed, n);
        assert_eq!(rtu::Repr::parse(&frame, direction), Ok(rtu_repr));
    }
    let tcp_repr = tcp::Repr {
        transaction: input.transaction,
        unit: input.unit,
        pdu,
    };
    let mut wire = [0u8; tcp::MAX_ADU_LEN];
    if let Ok(n) = tcp_repr.emit(&mut wire) {
        let Decoded::Frame { frame, consumed } = tcp::Decoder::new(direction).decode(&wire[..n])
        else {
            panic!(
                "TCP decoder missed the emitted {direction:?} {:02X?}",
                &wire[..n]
            );
        };
        assert_eq!(consumed, n);
        assert_eq!(tcp::Repr::parse(&frame, direction), Ok(tcp_repr));
    }
}

fuzz_target!(|input: Input| {
    if let Some(request) = input.request.build() {
        round_trip(&input, Pdu::Request(request), Direction::Request);
    }
    let mut scratch = [0u8; 256];
    if let Some(response) = input.response.build(&mut scratch) {
        round_trip(&input, Pdu::Response(response), Direction::Response);
    }
});
